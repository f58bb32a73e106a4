/**
 * Work asked by many callers within one turn of the event loop, done once for all of them after
 * the turn (`setImmediate`): each caller gets the answer at its own index, or the batch's error.
 */
export class TurnBatch<I, O> {
  #items: I[] | undefined;
  #done: Promise<O[]> | undefined;
  constructor(readonly run: (items: I[]) => Promise<O[]>) {}

  add(item: I): Promise<O> {
    if (!this.#items) {
      const items: I[] = [];
      this.#items = items;
      this.#done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.#items = undefined;
        return this.run(items);
      });
    }
    const at = this.#items.push(item) - 1;
    return this.#done!.then((answers) => answers[at]!);
  }
}
