// The upstream request's headers as a flat [name, value, name, value, ...] array with lower-case
// names: undici accepts it as is, and the small number of edits filters make stay cheap.

export class HeaderList {
  constructor(public readonly items: string[] = []) {}

  get(name: string): string | undefined {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) if (a[i] === name) return a[i + 1];
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of `name` with one value. */
  set(name: string, value: string): void {
    const a = this.items;
    let found = false;
    for (let i = 0; i < a.length; i += 2) {
      if (a[i] !== name) continue;
      if (!found) {
        a[i + 1] = value;
        found = true;
      } else {
        a.splice(i, 2);
        i -= 2;
      }
    }
    if (!found) a.push(name, value);
  }

  /** Gateway API `add`: appends to an existing value with a comma, else adds the header. */
  append(name: string, value: string, separator = ','): void {
    const a = this.items;
    for (let i = 0; i < a.length; i += 2) {
      if (a[i] === name) {
        a[i + 1] = a[i + 1] + separator + value;
        return;
      }
    }
    a.push(name, value);
  }

  /** Adds another line for `name`, keeping existing ones. */
  add(name: string, value: string): void {
    this.items.push(name, value);
  }

  remove(name: string): void {
    const a = this.items;
    for (let i = a.length - 2; i >= 0; i -= 2) if (a[i] === name) a.splice(i, 2);
  }
}
