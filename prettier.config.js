// Formatting, checked by `npm test` (`npm run format` applies it). The options are the ones that change the code as it
// is written least: 140 columns, single quotes, and trailing commas only where ES5 has them (objects and arrays, not
// argument lists). Markdown is left alone: see .prettierignore.
export default {
  printWidth: 140,
  singleQuote: true,
  trailingComma: 'es5',
};
