/** The part of nconf (which ships no types) that the layered-merge baseline uses. */
declare module 'nconf' {
  /** A hierarchy of stores; the first store added wins. */
  export class Provider {
    constructor(options?: unknown);
    add(name: string, options: { type: 'literal'; store: Record<string, unknown> }): this;
    /** With no key: every store merged into one object. */
    get(key?: string | null): unknown;
  }
  const nconf: { Provider: typeof Provider };
  export default nconf;
}
