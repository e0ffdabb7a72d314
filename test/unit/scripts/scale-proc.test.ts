// scripts/bench/scale/proc.ts: CPU and memory as the scale benchmark reads them from /proc, and
// the drain rounds it finds in a series of CPU samples.
import { bursts, cpuMsBetween, idleFor, parseProcStat, parseProcStatus, ticksAt, ticksToMs } from '../../../scripts/bench/scale/proc.js';

test('parseProcStat takes utime and stime (fields 14 and 15), whatever the command name holds', () => {
  const line = '4242 (node (rainbow) x) S 1 4242 4242 0 -1 4194560 12345 0 0 0 731 212 0 0 20 0 11 0 987654 1234567890 45678 18446744073709551615';
  expect(parseProcStat(line)).toEqual({ utime: 731, stime: 212, ticks: 943 });
  expect(() => parseProcStat('garbage')).toThrow(/not a \/proc\/PID\/stat line/);
});

test('parseProcStatus reads VmRSS, VmHWM, RssAnon and RssFile in MiB', () => {
  const text = ['Name:\tnode', 'VmHWM:\t  204800 kB', 'VmRSS:\t  153600 kB', 'RssAnon:\t  102400 kB', 'RssFile:\t   51200 kB', 'RssShmem:\t       0 kB'].join('\n');
  expect(parseProcStatus(text)).toEqual({ rssMiB: 150, peakRssMiB: 200, anonMiB: 100, fileMiB: 50 });
  expect(() => parseProcStatus('Name:\tnode')).toThrow(/no VmRSS/);
});

test('ticksAt interpolates between samples and clamps outside them; cpuMsBetween turns ticks into ms', () => {
  const s = [
    { t: 1000, ticks: 10 },
    { t: 2000, ticks: 30 },
    { t: 3000, ticks: 30 },
  ];
  expect(ticksAt(s, 500)).toBe(10);
  expect(ticksAt(s, 1500)).toBe(20);
  expect(ticksAt(s, 9999)).toBe(30);
  expect(ticksToMs(20)).toBe(200);
  expect(cpuMsBetween(s, 1000, 3000)).toBe(200);
  expect(cpuMsBetween(s, 1500, 2500)).toBe(100);
  expect(() => ticksAt([], 0)).toThrow();
});

test('bursts: runs of CPU separated by idle gaps of at least gapMs are rounds; blips are left out; the last is closed only after a gap', () => {
  // 100 ms samples: a round at 0–0.4 s (12 ticks), a 1-tick blip at 2 s, a round at 5–5.3 s (7 ticks)
  // with an idle sample inside it (shorter than the gap), then idle until 6 s.
  const samples: Array<{ t: number; ticks: number }> = [];
  let ticks = 0;
  const busy = new Map<number, number>([[1, 3], [2, 3], [3, 3], [4, 3], [20, 1], [51, 2], [53, 5]]);
  for (let i = 0; i <= 60; i++) {
    ticks += busy.get(i) ?? 0;
    samples.push({ t: i * 100, ticks });
  }
  const found = bursts(samples, 1000, 3);
  expect(found).toEqual([
    { start: 0, end: 400, ticks: 12, closed: true },
    { start: 5000, end: 5300, ticks: 7, closed: false },
  ]);
  // The same series a few seconds longer: the second round is over.
  for (let i = 61; i <= 90; i++) samples.push({ t: i * 100, ticks });
  expect(bursts(samples, 1000, 3).map((b) => b.closed)).toEqual([true, true]);
  // Without the minimum the blip is a burst of its own (1.5 s after the first round, 3 s before the second)…
  expect(bursts(samples, 1000).map((b) => b.ticks)).toEqual([12, 1, 7]);
  // …and with a longer gap it merges into the first round.
  expect(bursts(samples, 3000, 3).map((b) => b.ticks)).toEqual([13, 7]);
});

test('idleFor: the last ms of the series used at most maxTicks', () => {
  const s = [
    { t: 0, ticks: 0 },
    { t: 1000, ticks: 50 },
    { t: 2000, ticks: 51 },
    { t: 4000, ticks: 52 },
  ];
  expect(idleFor(s, 3500, 2)).toBe(false); // from 0.5 s: half of the first second's 50 ticks, then 2
  expect(idleFor(s, 2500, 2)).toBe(true);
  expect(idleFor(s, 9000)).toBe(false); // the series is shorter than that
  expect(idleFor([], 1000)).toBe(false);
});
