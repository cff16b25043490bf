// Many things that each expire at their own time, checked by one interval timer while any are watched.
// Cheaper per item than a timer each: a setTimeout and clearTimeout per FastCGI exchange, or a socket
// timeout (re-armed by node on every read and write) per connection, were each about 1 % of a PHP
// request's CPU. The price: an item expires up to one interval late. The items are kept in a SlotList,
// not a Set (slot-list.ts says why).
import { SlotList, type Slotted } from './slot-list.js';

export interface Expiring extends Slotted {
  /** performance.now() time after which `expire` is due. */
  readonly expiresAt: number;
  expire(): void;
}

export class ExpirySweep<T extends Expiring> {
  private readonly items = new SlotList<T>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs: number) {}

  /** Expire `item` once past its `expiresAt` (read at each sweep), unless forgotten first. */
  watch(item: T): void {
    this.items.add(item);
    this.timer ??= setInterval(() => this.sweep(), this.everyMs).unref();
  }

  forget(item: T): void {
    this.items.delete(item);
  }

  /** Stop the timer (a later `watch` starts it again). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    this.items.takeDue((item) => item.expiresAt <= now, (item) => item.expire());
    if (this.items.size === 0) this.stop();
  }
}
