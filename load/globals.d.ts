/**
 * k6 provides `console` in every context, but `@types/k6` does not declare it and this project
 * deliberately type-checks load scripts without the DOM or Node libraries (neither exists in k6).
 */
declare global {
  interface Console {
    log(...data: unknown[]): void;
    info(...data: unknown[]): void;
    warn(...data: unknown[]): void;
    error(...data: unknown[]): void;
    debug(...data: unknown[]): void;
  }
  var console: Console;
}

export {};
