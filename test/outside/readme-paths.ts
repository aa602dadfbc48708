/**
 * What a package README may point to: files its tarball holds, URLs, or files it says are in
 * the source repository (an npm user has only the tarball). Read from the prose: code blocks
 * and HTML comments (the example markers) are not read.
 */
export function readmeFaults(readme: string, files: readonly string[]): string[] {
  const shipped = (path: string) => {
    const p = path.replace(/^\.\//, '').replace(/#.*$/, '').replace(/\/$/, '');
    return files.some((f) => f === p || f.startsWith(`${p}/`));
  };
  const faults: string[] = [];
  const prose = readme.replace(/```[\s\S]*?```/g, '').replace(/<!--[\s\S]*?-->/g, '');
  for (const paragraph of prose.split(/\n\s*\n/)) {
    const links = [...paragraph.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^(https?:|mailto:|#)/.test(t));
    faults.push(...links.filter((t) => !shipped(t)).map((t) => `link to ${t}`));
    // A path into the repository's folders, or a .md file, named in the text.
    const named = [...paragraph.matchAll(/(?<![\w/@.-])((?:docs|test|tests|examples|bench|src|dist|dist-wasm|assembly|bin)\/[\w./*-]*|[\w-]+\.md)\b/g)].map((m) => m[1]!);
    if (!/source repository/.test(paragraph)) faults.push(...named.filter((t) => !shipped(t)).map((t) => `'${t}' named without saying it is in the source repository`));
  }
  return faults;
}
