import { createHighlighterCore, type HighlighterCore, type ThemedToken } from 'shiki/core';
import { createJavaScriptRegexEngine } from 'shiki/engine/javascript';

// Highlighting by language with Shiki, loaded only when a file is opened. The JavaScript regex
// engine, not Oniguruma's WebAssembly, so the CSP needs no 'wasm-unsafe-eval'; tokens are drawn
// as React elements (never as HTML), in both themes at once (light and dark follow the system);
// the high-contrast GitHub themes, whose colours all pass WCAG AA (axe found the plain ones' orange
// and grey too faint).

const LANGUAGES = {
  python: () => import('@shikijs/langs/python'),
  javascript: () => import('@shikijs/langs/javascript'),
  typescript: () => import('@shikijs/langs/typescript'),
  tsx: () => import('@shikijs/langs/tsx'),
  json: () => import('@shikijs/langs/json'),
  markdown: () => import('@shikijs/langs/markdown'),
  shellscript: () => import('@shikijs/langs/shellscript'),
  html: () => import('@shikijs/langs/html'),
  css: () => import('@shikijs/langs/css'),
  yaml: () => import('@shikijs/langs/yaml'),
  toml: () => import('@shikijs/langs/toml'),
} as const;
export type Language = keyof typeof LANGUAGES;

const BY_EXTENSION: Record<string, Language> = {
  py: 'python',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'tsx',
  ts: 'typescript',
  tsx: 'tsx',
  json: 'json',
  md: 'markdown',
  sh: 'shellscript',
  bash: 'shellscript',
  html: 'html',
  htm: 'html',
  css: 'css',
  yml: 'yaml',
  yaml: 'yaml',
  toml: 'toml',
};

export function languageOf(path: string): Language | undefined {
  const ext = path.split('/').pop()!.split('.').pop()!.toLowerCase();
  return BY_EXTENSION[ext];
}

let highlighter: Promise<HighlighterCore> | undefined;
const loaded = new Set<Language>();

function getHighlighter(): Promise<HighlighterCore> {
  highlighter ??= createHighlighterCore({
    themes: [import('@shikijs/themes/github-light-high-contrast'), import('@shikijs/themes/github-dark-high-contrast')],
    langs: [],
    engine: createJavaScriptRegexEngine(),
  });
  return highlighter;
}

/** Lines of tokens, each with its colour in both themes (htmlStyle: color and --shiki-dark). */
export async function highlight(code: string, language: Language): Promise<ThemedToken[][]> {
  const h = await getHighlighter();
  if (!loaded.has(language)) {
    await h.loadLanguage(LANGUAGES[language]());
    loaded.add(language);
  }
  return h.codeToTokens(code, {
    lang: language,
    themes: { light: 'github-light-high-contrast', dark: 'github-dark-high-contrast' },
  }).tokens;
}
