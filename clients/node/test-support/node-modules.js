// Express and the two small modules the express-session stand-in needs (cookie,
// cookie-signature), from Debian's packages in /usr/share/nodejs (node-express and its
// dependencies; scripts/setup --test-tools installs them). Debian's node does not look there
// by itself, so that folder is put on NODE_PATH for this process (NODEJS_DIR overrides it).

import { createRequire } from 'node:module'
import Module from 'node:module'
import path from 'node:path'

const dir = process.env.NODEJS_DIR || '/usr/share/nodejs'
const paths = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean)
if (!paths.includes(dir)) {
  process.env.NODE_PATH = [dir, ...paths].join(path.delimiter)
  Module._initPaths() // NODE_PATH is otherwise read once, at start-up
}

const require = createRequire(import.meta.url)

function load (name) {
  try {
    return require(name)
  } catch (error) {
    throw new Error(`cannot load ${name} (Debian's node-express and its dependencies in ${dir}; scripts/setup --test-tools installs them, NODEJS_DIR names another folder): ${error.message}`)
  }
}

export const express = load('express')
export const cookie = load('cookie')
export const cookieSignature = load('cookie-signature')
