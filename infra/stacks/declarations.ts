// The wiring declared in shared/wiring/tables.ts and shared/wiring/topology.ts, as the stack's builders read it.
import type { TableDeclaration, TableName } from '#shared/wiring/tables';
import { tables } from '#shared/wiring/tables';
import { type FunctionDeclaration, type FunctionName, functions } from '#shared/wiring/topology';

/** `Object.entries` that keeps the declarations' key and value types. */
export function declared<K extends string, V>(record: Partial<Record<K, V>>): Array<[K, V]> {
  return Object.entries(record) as Array<[K, V]>;
}

/** A declared name as the start of a logical id: `foldOccurrences` → `FoldOccurrences`. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

// The declarations seen through their interfaces, so optional fields read the same on every entry.
export const tableDeclarations: Record<TableName, TableDeclaration> = tables;
export const functionDeclarations: Record<FunctionName, FunctionDeclaration> = functions;
