interface Waiter {
  resolve: () => void;
  next: Waiter | null;
}

export interface Limiter {
  /** Resolves once a slot is free; call `release` when done with it. */
  acquire(): Promise<void>;
  release(): void;
}

/**
 * A counting semaphore, waiters served in arrival order. The queue is a linked list: `Array#shift`
 * copies the whole array once it is large, and emitting to 100,000 endpoints queues 100,000 attempts.
 */
export function createLimiter(slots: number): Limiter {
  let free = slots;
  let head: Waiter | null = null;
  let tail: Waiter | null = null;
  return {
    async acquire() {
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((resolve) => {
        const waiter: Waiter = { resolve, next: null };
        if (tail === null) head = waiter;
        else tail.next = waiter;
        tail = waiter;
      });
    },
    release() {
      const waiter = head;
      if (waiter === null) {
        free++;
        return;
      }
      head = waiter.next;
      if (head === null) tail = null;
      waiter.resolve();
    },
  };
}
