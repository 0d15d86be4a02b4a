// Child process: the real server, started exactly as `npm start` starts it (`latchkey start` through
// bin/latchkey.js, which runs the dist/ bundle the bench has just built), configured from the
// environment the bench gives it. If the bench goes away (its IPC channel closes, even on a SIGKILL of
// the parent), the server shuts itself down the normal way.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
process.argv.splice(2, process.argv.length - 2, 'start');
await import('../bin/latchkey.js');
