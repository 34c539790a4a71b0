// timing.mjs: preloaded by scripts/test.sh (node --import) into the runner and every test file
// it starts. When GOVHALL_TEST_TIMES names a file, each test file appends one line on exit:
// its path, its wall time in seconds and the CPU time (user+sys) of the file's process and of
// the processes it started and waited for (the servers it stopped), in seconds. scripts/test.sh
// prints each suite's slowest files from these lines and keeps them in
// build/test-logs/durations.tsv.
import { appendFileSync, readFileSync } from 'node:fs';

const out = process.env.GOVHALL_TEST_TIMES;
const file = process.argv[1];
if (out && file && /\.test\.mjs$/.test(file)) {
  process.on('exit', () => {
    // /proc/self/stat after the command name: utime, stime, cutime and cstime are fields 14-17
    // of the whole line, in clock ticks (100 a second on Linux).
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const cpu = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    appendFileSync(out, `${file}\t${(performance.now() / 1000).toFixed(1)}\t${cpu.toFixed(1)}\n`);
  });
}
