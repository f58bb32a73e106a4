/**
 * The little of Alpine's CSP build (`@alpinejs/csp`, served as /assets/alpine.<hash>.js) that the
 * portal's modules use. In the CSP build a directive names a property or method of a component
 * registered with `Alpine.data` (or a simple expression over them); nothing is evaluated with eval.
 */
/** What Alpine adds to `this` inside a component. */
export interface Magics {
  /** The element with the `x-data`. */
  $el: HTMLElement;
}
export interface Alpine {
  /** Registers a component for `x-data="name"`: `this` in its methods is the reactive component. */
  data<T extends object>(name: string, make: () => T & ThisType<T & Magics>): void;
  /** Initialises every `x-data` on the page and watches the page for more (e.g. swapped in by htmx). */
  start(): void;
}
declare const Alpine: Alpine;
export default Alpine;
