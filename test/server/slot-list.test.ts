// SlotList: the same answers as a Set for any sequence of additions and removals, and no member left
// reachable from the list once removed (the reason it exists: slot-list.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SlotList } from '../../src/server/slot-list.js';

interface Item { readonly id: number; slot: number }

test('adds, removes, membership and size agree with a Set for any sequence of operations', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 })), { maxLength: 300 }), (operations) => {
    const items: Item[] = Array.from({ length: 16 }, (_, id) => ({ id, slot: -1 }));
    const list = new SlotList<Item>();
    const model = new Set<Item>();
    for (const [add, index] of operations) {
      const item = items[index]!;
      if (add) {
        list.add(item);
        model.add(item);
      } else {
        assert.equal(list.delete(item), model.delete(item));
      }
      assert.equal(list.size, model.size);
      for (const each of items) assert.equal(list.has(each), model.has(each));
      assert.deepEqual(new Set(list.snapshot()), model);
      for (const each of items) assert.equal(each.slot >= 0, model.has(each));
    }
  }));
});

test('a snapshot is a copy: removing members while going through it is safe', () => {
  const items: Item[] = Array.from({ length: 5 }, (_, id) => ({ id, slot: -1 }));
  const list = new SlotList<Item>();
  for (const item of items) list.add(item);
  const seen: number[] = [];
  for (const item of list.snapshot()) {
    seen.push(item.id);
    list.delete(item);
    list.delete(items[4]!); // removing one not yet reached does not skip or repeat the others
  }
  assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4]);
  assert.equal(list.size, 0);
});

test('an item another list holds (or a stale slot number) is not taken for a member', () => {
  const a = new SlotList<Item>();
  const b = new SlotList<Item>();
  const first: Item = { id: 1, slot: -1 };
  const second: Item = { id: 2, slot: -1 };
  a.add(first);
  b.add(second);
  // Both have slot 0, each in its own list.
  assert.equal(a.has(second), false);
  assert.equal(a.delete(second), false);
  assert.equal(b.has(second), true);
  assert.equal(a.size, 1);
});

test('takeDue removes and hands over each due member once, skips one an earlier hand-over removed, keeps the rest', () => {
  const items: Item[] = Array.from({ length: 6 }, (_, id) => ({ id, slot: -1 }));
  const list = new SlotList<Item>();
  for (const item of items) list.add(item);
  const taken: number[] = [];
  // Even ids are due; taking 0 also removes 4, which must then not be handed over.
  list.takeDue((item) => item.id % 2 === 0, (item) => {
    taken.push(item.id);
    if (item.id === 0) list.delete(items[4]!);
  });
  assert.deepEqual(taken.sort(), [0, 2]);
  assert.deepEqual(list.snapshot().map((item) => item.id).sort(), [1, 3, 5]);
  for (const id of [0, 2, 4]) assert.equal(items[id]!.slot, -1);
});
