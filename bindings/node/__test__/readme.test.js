'use strict'
// The README's JavaScript examples run as written.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const README = path.join(__dirname, '..', '..', '..', 'README.md')
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor

test('README js blocks run', async () => {
  const blocks = [...fs.readFileSync(README, 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.ok(blocks.length > 0)
  const load = (name) => (name === 'teamkpi' ? require('..') : require(name))
  for (const code of blocks) await new AsyncFunction('require', code)(load)
})
