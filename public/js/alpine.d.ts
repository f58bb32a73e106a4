/**
 * The little of Alpine's CSP build (`@alpinejs/csp`, served as /assets/alpine-csp.<hash>.js behind public/js/alpine.js) that the
 * portal's modules use. In the CSP build a directive names a property or method of a component
 * registered with `Alpine.data` (or a simple expression over them); nothing is evaluated with eval.
 */
/** What Alpine adds to `this` inside a component. */
export interface Magics {
  /** The element of the directive being evaluated (in `init`, the element with the `x-data`). */
  $el: HTMLElement;
  /** The nearest element with an `x-data`: the component's own element. */
  $root: HTMLElement;
  /** Elements of the component marked `x-ref="name"`. */
  $refs: Record<string, HTMLElement | undefined>;
  /** Runs after Alpine has applied the state just set to the page. */
  $nextTick(then?: () => void): Promise<void>;
}
export interface Alpine {
  /** Registers a component for `x-data="name"`: `this` in its methods is the reactive component. */
  data<T extends object>(name: string, make: () => T & ThisType<T & Magics>): void;
  /** Initialises every `x-data` on the page and watches the page for more (e.g. swapped in by htmx). */
  start(): void;
}
declare const Alpine: Alpine;
export default Alpine;
