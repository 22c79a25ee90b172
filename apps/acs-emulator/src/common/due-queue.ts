/** A min-heap of items by due time: push and pop are O(log n), so one timer can serve any number of items. */
export class DueQueue<T> {
  private readonly heap: { dueAt: number; item: T }[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The earliest due time, if any. */
  peekDueAt(): number | undefined {
    return this.heap[0]?.dueAt;
  }

  push(dueAt: number, item: T): void {
    const heap = this.heap;
    heap.push({ dueAt, item });
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentNode = heap[parent];
      const node = heap[index];
      if (!parentNode || !node || parentNode.dueAt <= node.dueAt) break;
      heap[parent] = node;
      heap[index] = parentNode;
      index = parent;
    }
  }

  /** Removes and returns every item due at or before `now`, earliest first. */
  popDue(now: number): T[] {
    const due: T[] = [];
    while ((this.heap[0]?.dueAt ?? Number.POSITIVE_INFINITY) <= now) {
      const item = this.pop();
      if (item === undefined) break;
      due.push(item);
    }
    return due;
  }

  clear(): void {
    this.heap.length = 0;
  }

  private pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (heap.length === 0) return top.item;
    heap[0] = last;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if ((heap[left]?.dueAt ?? Infinity) < (heap[smallest]?.dueAt ?? Infinity)) smallest = left;
      if ((heap[right]?.dueAt ?? Infinity) < (heap[smallest]?.dueAt ?? Infinity)) smallest = right;
      if (smallest === index) break;
      const a = heap[index];
      const b = heap[smallest];
      if (!a || !b) break;
      heap[index] = b;
      heap[smallest] = a;
      index = smallest;
    }
    return top.item;
  }
}
