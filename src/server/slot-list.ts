// A set of objects that come and go thousands of times a second (requests in flight, FastCGI
// deadlines, idle connections), kept in an array in which each member knows its slot: adding and
// removing are O(1) and leave no reference behind.
//
// Why not a Set: when V8 rebuilds a Set's hash table (every few dozen additions once removals leave
// holes) it keeps the old table, linked to the new one for iterators. A table that had lived long enough
// to be promoted to the old generation then keeps every later table, and every member those held, alive
// through each young-generation collection until the next full one. With a request's objects reachable
// from its member, a worker promoted about 1.6 MB per scavenge (paused 8 to 11 ms each) and ran a full
// collection about once a second; docs/benchmarks.md ("serve: what the young generation kept").

/** A SlotList member: `slot` is its index there, -1 while it is in none. One list at a time. */
export interface Slotted {
  slot: number;
}

export class SlotList<T extends Slotted> {
  private readonly members: T[] = [];

  get size(): number {
    return this.members.length;
  }

  add(item: T): void {
    if (item.slot >= 0) return;
    item.slot = this.members.length;
    this.members.push(item);
  }

  /** Remove `item`; false when it was not a member. */
  delete(item: T): boolean {
    const at = item.slot;
    if (at < 0 || this.members[at] !== item) return false;
    const last = this.members.pop()!;
    if (last !== item) {
      this.members[at] = last;
      last.slot = at;
    }
    item.slot = -1;
    return true;
  }

  has(item: T): boolean {
    return item.slot >= 0 && this.members[item.slot] === item;
  }

  /**
   * Remove each member that `due` picks and hand it to `act`, in turn; one removed meanwhile (by an
   * earlier `act`, say) is skipped. The timeout sweeps' loop.
   */
  takeDue(due: (item: T) => boolean, act: (item: T) => void): void {
    for (const item of this.members.slice()) {
      if (!due(item) || !this.delete(item)) continue;
      act(item);
    }
  }

  /** The members now, as a copy: the caller may add and remove while it goes through them. */
  snapshot(): T[] {
    return this.members.slice();
  }
}
