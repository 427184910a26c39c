// An Express app whose sessions live in Sessiond: a visit counter, login with a new session id,
// logout, "your devices" and "log out everywhere".
//
//   npm install express express-session sessiond
//   SESSIOND_URL=http://127.0.0.1:8080 SESSIOND_API_KEY=... SESSION_SECRET=... node examples/app.js
//
//   curl -c jar -b jar localhost:3000/                        {"user":null,"views":1}
//   curl -c jar -b jar -d user=ada localhost:3000/login       (a new session id in the cookie)
//   curl -c jar -b jar localhost:3000/devices                 the user's sessions (handles, times)
//   curl -c jar -b jar -X POST localhost:3000/logout-everywhere
//
// createApp takes express and express-session from the caller, so the tests can run it with
// Debian's Express and their express-session stand-in.

import { fileURLToPath } from 'node:url'

import { genid, sessiondStore } from 'sessiond/express-session'

export function createApp ({ express, session, url, apiKey, secret, failOpen = false }) {
  const SessiondStore = sessiondStore(session)
  const store = new SessiondStore({
    url,
    apiKey, // sent as "Authorization: Bearer <apiKey>"
    failOpen, // false: when Sessiond is down, requests with a session fail (500) instead of running without it
    subject: (sess) => sess.user ?? undefined // lists sessions under the user, for the devices page
  })

  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(session({
    store,
    genid, // uuid4 ids: a new session is created under its id with If-None-Match: *
    secret,
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 30 * 60 * 1000, sameSite: 'lax', secure: process.env.NODE_ENV === 'production' }
  }))

  app.get('/', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ user: req.session.user ?? null, views: req.session.views })
  })

  // Login: a new session (and id) for the signed-in user, as express-session recommends.
  app.post('/login', (req, res, next) => {
    const user = String(req.body.user || '')
    if (!user) return res.status(400).json({ error: 'user required' })
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = user
      req.session.save((err) => (err ? next(err) : res.json({ user })))
    })
  })

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ user: null })))
  })

  app.get('/devices', async (req, res, next) => {
    if (!req.session.user) return res.status(401).json({ error: 'log in first' })
    try {
      const sessions = await store.client.subjectSessions(req.session.user)
      res.json(sessions.map((s) => ({ handle: s.handle, createdAt: s.createdAt, expiresAt: s.expiresAt })))
    } catch (err) {
      next(err)
    }
  })

  app.post('/logout-everywhere', async (req, res, next) => {
    if (!req.session.user) return res.status(401).json({ error: 'log in first' })
    try {
      const revoked = await store.client.revokeSubject(req.session.user) // this session too
      delete req.session // nothing left to save
      res.json({ revoked })
    } catch (err) {
      next(err)
    }
  })

  return app
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { default: express } = await import('express')
  const { default: session } = await import('express-session')
  const app = createApp({
    express,
    session,
    url: process.env.SESSIOND_URL || 'http://127.0.0.1:8080',
    apiKey: process.env.SESSIOND_API_KEY,
    secret: process.env.SESSION_SECRET || 'change me'
  })
  const port = Number(process.env.PORT || 3000)
  app.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}`))
}
