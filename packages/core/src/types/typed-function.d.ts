/**
 * Type declarations for typed-function 4 (it ships none), covering what this project uses.
 * Internal to @mats/core: the public API exposes its own types, never these, so that a
 * consumer of the built .d.ts files does not need this declaration.
 * Source of truth: node_modules/typed-function/README.md ("API").
 */
declare module 'typed-function' {
  /** A function dispatching on the runtime types of its arguments. */
  export interface TypedFunction {
    (...args: any[]): any;
    readonly name: string;
    /** Canonical signature string -> implementation. */
    readonly signatures: Record<string, (...args: any[]) => any>;
  }

  /** A named runtime type: test decides membership. */
  export interface TypeDef {
    name: string;
    test: (x: unknown) => boolean;
  }

  export interface ConversionDef {
    from: string;
    to: string;
    convert: (x: any) => any;
  }

  export interface Signature {
    /** The canonical signature, e.g. 'KroneckerOperator,number' (types joined by ','). */
    name: string;
    params: unknown[];
    test: (args: unknown[]) => boolean;
    fn: (...args: any[]) => any;
    implementation: (...args: any[]) => any;
  }

  export type Implementations = Record<string, ((...args: any[]) => any) | ReferenceMarker>;

  /** The opaque value referTo/referToSelf return, resolved when the typed function is built. */
  export interface ReferenceMarker {
    readonly __typedFunctionReference: true;
  }

  export interface Typed {
    (name: string, ...implementations: (Implementations | TypedFunction)[]): TypedFunction;
    (...implementations: (Implementations | TypedFunction)[]): TypedFunction;
    /** A new, isolated instance: its own types, conversions and handlers. */
    create(): Typed;
    /** Adds a type; by default before the Object test, so that it is not masked by Object. */
    addType(type: TypeDef, beforeObjectTest?: boolean): void;
    /** Adds types before the named type (default 'any'). */
    addTypes(types: TypeDef[], before?: string): void;
    addConversion(conversion: ConversionDef, options?: { override: boolean }): void;
    addConversions(conversions: ConversionDef[], options?: { override: boolean }): void;
    clear(): void;
    clearConversions(): void;
    convert(value: unknown, type: string): unknown;
    isTypedFunction(entity: unknown): entity is TypedFunction;
    /** The signature a call with these arguments would run, or null when none matches. */
    resolve(fn: TypedFunction, args: unknown[]): Signature | null;
    findSignature(fn: TypedFunction, signature: string | string[], options?: { exact?: boolean }): Signature;
    find(fn: TypedFunction, signature: string | string[], options?: { exact?: boolean }): (...args: any[]) => any;
    referTo(...args: [...signatures: string[], callback: (...resolved: ((...args: any[]) => any)[]) => (...args: any[]) => any]): ReferenceMarker;
    referToSelf(callback: (self: TypedFunction) => (...args: any[]) => any): ReferenceMarker;
    createError(name: string, args: unknown[], signatures: Signature[]): TypeError;
    onMismatch: (name: string, args: unknown[], signatures: { signature: string; fn: (...args: any[]) => any }[]) => unknown;
    throwMismatchError: Typed['onMismatch'];
    warnAgainstDeprecatedThis: boolean;
  }

  const typed: Typed;
  export default typed;
}
