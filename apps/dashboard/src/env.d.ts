/** Vite turns CSS imports into injected styles; tsc only needs to know they exist. */
declare module '*.css' {}
