import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { bytesToProcHex, canonicalIP, formatIPBytes, formatProcAddress, parseIP, procHexForms, procHexToIPv4 } from '../../../webhook/src/net/ip.js';
import { countEstablishedInText } from '../../../webhook/src/reporter/proc-net-tcp.js';
import { countEstablished, parseProcNetTcp, parseProcNetTcpLine, TCP_STATES, tcpStateName } from '../../support/proc-net-entries.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');

const kernelTcp = fixture('kernel-tcp');
const kernelTcp6 = fixture('kernel-tcp6');
const podTcp = fixture('pod-tcp');
const podTcp6 = fixture('pod-tcp6');

// Real kernel lines (see fixtures/README.md).
const HEADER4 =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ';
const LISTEN4 =
  '   0: 0100007F:46A1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 26561 1 000000008b1de0de 100 0 0 10 0                     ';
const OUTBOUND4 =
  '   5: 020200C0:BEA8 507100CB:01BB 01 00000000:00000000 02:000002CE 00000000     0        0 6245 2 000000000f965eca 20 4 0 135 -1                     ';
const TIMEWAIT4 =
  '   6: 0100007F:E816 0100007F:46A1 06 00000000:00000000 03:000014C4 00000000     0        0 0 3 0000000073ee9470                                      ';
const LOOPBACK6 =
  '   4: 00000000000000000000000001000000:46A2 00000000000000000000000001000000:818E 01 00000000:00000000 00:00000000 00000000     0        0 26569 1 0000000012191de6 20 0 0 10 -1';
const MAPPED6 =
  '   2: 0000000000000000FFFF00000100007F:46A0 0000000000000000FFFF00000100007F:D20A 01 00000000:00000000 00:00000000 00000000     0        0 26567 1 00000000b2457e72 20 0 0 10 -1';
const ANY6 =
  '   1: 00000000000000000000000000000000:46A0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 26560 1 0000000091f32e68 100 0 0 10 0';

describe('parseProcNetTcpLine on real kernel lines', () => {
  it('skips the header line', () => {
    expect(parseProcNetTcpLine(HEADER4)).toBeUndefined();
    expect(parseProcNetTcpLine(kernelTcp6.split('\n')[0]!)).toBeUndefined();
  });

  it('reads an IPv4 LISTEN line: little-endian address, big-endian port', () => {
    const e = parseProcNetTcpLine(LISTEN4)!;
    expect(e).toBeDefined();
    expect(e.family).toBe(4);
    expect(e.localAddress).toBe('127.0.0.1');
    expect(e.localIPv4).toBe('127.0.0.1');
    expect(e.localPort).toBe(18081);
    expect(e.remoteAddress).toBe('0.0.0.0');
    expect(e.remotePort).toBe(0);
    expect(e.state).toBe(0x0a);
    expect(e.stateName).toBe('LISTEN');
    expect(e.localHex).toBe('0100007F');
  });

  it('reads an outbound IPv4 ESTABLISHED line', () => {
    const e = parseProcNetTcpLine(OUTBOUND4)!;
    expect([e.localAddress, e.localPort, e.remoteAddress, e.remotePort]).toEqual(['192.0.2.2', 48808, '203.0.113.80', 443]);
    expect(e.stateName).toBe('ESTABLISHED');
  });

  it('reads the shorter TIME_WAIT line', () => {
    const e = parseProcNetTcpLine(TIMEWAIT4)!;
    expect(e.stateName).toBe('TIME_WAIT');
    expect(e.remotePort).toBe(18081);
  });

  it('reads IPv6 as four little-endian words', () => {
    const e = parseProcNetTcpLine(LOOPBACK6)!;
    expect(e.family).toBe(6);
    expect(e.localAddress).toBe('::1');
    expect(e.localIPv4).toBeUndefined();
    expect(e.localPort).toBe(18082);
    expect(e.remotePort).toBe(33166);
    const any = parseProcNetTcpLine(ANY6)!;
    expect(any.localAddress).toBe('::');
    expect(any.stateName).toBe('LISTEN');
  });

  it('recognises IPv4-mapped IPv6 and exposes the IPv4', () => {
    const e = parseProcNetTcpLine(MAPPED6)!;
    expect(e.family).toBe(6);
    expect(e.localAddress).toBe('::ffff:127.0.0.1');
    expect(e.localIPv4).toBe('127.0.0.1');
    expect(e.remoteAddress).toBe('::ffff:127.0.0.1');
    expect(e.remoteIPv4).toBe('127.0.0.1');
    expect(e.remotePort).toBe(53770);
  });

  it('names every state 01..0B, and keeps unknown newer states as UNKNOWN', () => {
    const names: Record<string, string> = {
      '01': 'ESTABLISHED',
      '02': 'SYN_SENT',
      '03': 'SYN_RECV',
      '04': 'FIN_WAIT1',
      '05': 'FIN_WAIT2',
      '06': 'TIME_WAIT',
      '07': 'CLOSE',
      '08': 'CLOSE_WAIT',
      '09': 'LAST_ACK',
      '0A': 'LISTEN',
      '0B': 'CLOSING',
      '0C': 'UNKNOWN',
    };
    for (const [hex, name] of Object.entries(names)) {
      for (const line of [OUTBOUND4, LOOPBACK6]) {
        const e = parseProcNetTcpLine(line.replace(/ 01 /, ` ${hex} `))!;
        expect(e.state).toBe(parseInt(hex, 16));
        expect(e.stateName).toBe(name);
      }
    }
    expect(TCP_STATES.CLOSING).toBe(0x0b);
    expect(tcpStateName(0x0a)).toBe('LISTEN');
    expect(tcpStateName(0)).toBe('UNKNOWN');
  });

  it('serialises readable fields with toJSON', () => {
    expect(JSON.parse(JSON.stringify(parseProcNetTcpLine(MAPPED6)))).toMatchObject({
      family: 6,
      localAddress: '::ffff:127.0.0.1',
      localIPv4: '127.0.0.1',
      localPort: 18080,
      state: 1,
      stateName: 'ESTABLISHED',
    });
  });
});

describe('parseProcNetTcp on whole files', () => {
  it('parses every line of real /proc/net/tcp and tcp6 output', () => {
    const v4 = parseProcNetTcp(kernelTcp);
    const v6 = parseProcNetTcp(kernelTcp6);
    expect(v4).toHaveLength(9);
    expect(v6).toHaveLength(8);
    expect(v4.map((e) => e.stateName)).toEqual([
      'LISTEN',
      'LISTEN',
      'ESTABLISHED',
      'ESTABLISHED',
      'ESTABLISHED',
      'ESTABLISHED',
      'TIME_WAIT',
      'CLOSE_WAIT',
      'FIN_WAIT2',
    ]);
    expect(v4[7]).toMatchObject({ localAddress: '127.0.0.5', localPort: 18090, remoteAddress: '127.0.0.1', remotePort: 54572 });
    expect(v6.every((e) => e.family === 6)).toBe(true);
    // Both files concatenated parse as one.
    expect(parseProcNetTcp(kernelTcp + kernelTcp6)).toHaveLength(17);
  });

  it('skips malformed lines without throwing, keeping the good ones around them', () => {
    const bad = [
      '',
      '   ',
      'garbage',
      '   0: 0100007F:46A1', // truncated after the local address
      '   0: 0100007F:46A1 00000000:0000', // no state
      '   0: 0100007G:46A1 00000000:0000 0A 00000000:00000000', // not hex
      '   0: 0100007F:46A1 00000000:000Z 0A 00000000:00000000', // port not hex
      '   0: 0100007F:146A1 00000000:0000 0A 00000000:00000000', // 5-digit port
      '   0: 0100007F:46A1 00000000:0000 0A0 00000000:00000000', // 3-digit state
      '   0: 0100007F:46A1 00000000:0000 0X 00000000:00000000', // state not hex
      '   0: 0100007F:46A1 00000000000000000000000000000000:0000 0A', // mixed families
      '   0: 0100007:46A1 00000000:0000 0A 00000000:00000000', // 7-digit address
      '   0 0100007F:46A1 00000000:0000 0A 00000000:00000000', // slot without ':'
      '   x: 0100007F:46A1 00000000:0000 0A 00000000:00000000', // slot not a number
      '   0: 0000000000000000FFFF00000100007F:46A0 0000000000000000FFFF0000010000:D20A 01', // short remote
      '   0: 0100007F46A1 00000000:0000 0A', // no ':' between address and port
      '\u0000\u0001\u0002',
    ];
    for (const line of bad) expect(parseProcNetTcpLine(line)).toBeUndefined();
    const text = [HEADER4, LISTEN4, ...bad, OUTBOUND4, TIMEWAIT4].join('\n');
    expect(() => parseProcNetTcp(text)).not.toThrow();
    expect(parseProcNetTcp(text).map((e) => e.stateName)).toEqual(['LISTEN', 'ESTABLISHED', 'TIME_WAIT']);
  });

  it('tolerates CRLF line ends, lowercase hex and wide slot numbers', () => {
    const lines = [LISTEN4, OUTBOUND4.replace('020200C0', '020200c0'), MAPPED6.replace('   2:', '10000:')];
    const entries = parseProcNetTcp(lines.join('\r\n'));
    expect(entries).toHaveLength(3);
    expect(entries[1]!.localAddress).toBe('192.0.2.2');
    expect(entries[2]!.localIPv4).toBe('127.0.0.1');
  });
});

describe('addresses', () => {
  it('formats IPv6 per RFC 5952', () => {
    const cases: Record<string, string> = {
      '2001:DB8:0:0:0:0:0:1': '2001:db8::1',
      '2001:db8:0:0:1:0:0:1': '2001:db8::1:0:0:1', // first of two equal runs
      '1:0:0:2:0:0:0:3': '1:0:0:2::3', // the longer run
      '2001:db8:0:1:1:1:1:1': '2001:db8:0:1:1:1:1:1', // a single zero group stays
      'fe80::1%eth0': 'fe80::1',
      '::': '::',
      '::1': '::1',
      '1::': '1::',
      '::ffff:10.244.1.7': '::ffff:10.244.1.7',
      '0:0:0:0:0:ffff:0af4:0107': '::ffff:10.244.1.7',
      '[fd00::7]': 'fd00::7',
      '10.244.1.7': '10.244.1.7',
    };
    for (const [input, want] of Object.entries(cases)) expect(canonicalIP(input)).toBe(want);
  });

  it('rejects what is not an IP address', () => {
    for (const s of ['', 'pod', '1.2.3', '1.2.3.256', '1.2.3.4.5', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '::1.2.3']) {
      expect(parseIP(s)).toBeUndefined();
    }
  });

  it('round-trips between bytes and /proc hex', () => {
    for (const ip of ['10.244.1.7', '127.0.0.1', 'fd00::7', '2001:db8::1:0:0:1', '::ffff:192.0.2.2', '::']) {
      const hex = bytesToProcHex(parseIP(ip)!);
      expect(formatProcAddress(hex)).toBe(canonicalIP(ip));
    }
    expect(bytesToProcHex(parseIP('127.0.0.1')!)).toBe('0100007F');
    expect(bytesToProcHex(parseIP('::1')!)).toBe('00000000000000000000000001000000');
    expect(formatIPBytes(parseIP('fd00::7')!)).toBe('fd00::7');
    expect(procHexToIPv4('000000FD000000000000000007000000')).toBeUndefined();
    expect(() => formatProcAddress('XYZ')).toThrow(/8 or 32 hex digits/);
  });

  it('gives both /proc forms of an IPv4 pod address', () => {
    expect(procHexForms('10.244.1.7')).toEqual(['0701F40A', '0000000000000000FFFF00000701F40A']);
    expect(procHexForms('::ffff:10.244.1.7')).toEqual(procHexForms('10.244.1.7'));
    expect(procHexForms('fd00::7')).toEqual(['000000FD000000000000000007000000']);
    expect(() => procHexForms('pod-a')).toThrow(/not an IP address/);
  });
});

describe('countEstablished', () => {
  const entries = parseProcNetTcp(podTcp + podTcp6);

  it('counts ESTABLISHED sockets on the app ports at the pod IP (IPv4-mapped included)', () => {
    const counts = countEstablished(entries, { ports: [8080, 8081], podIP: '10.244.1.7' });
    expect(counts).toEqual({ established: 4, ports: { '8080': 3, '8081': 1 } });
  });

  it('accepts the pod IP in its IPv4-mapped form', () => {
    expect(countEstablished(entries, { ports: [8080, 8081], podIP: '::ffff:10.244.1.7' }).established).toBe(4);
  });

  it('counts every local address without a pod IP', () => {
    expect(countEstablished(entries, { ports: [8080, 8081] })).toEqual({ established: 6, ports: { '8080': 5, '8081': 1 } });
  });

  it('matches an IPv6 pod address', () => {
    expect(countEstablished(entries, { ports: [8080], podIP: 'fd00::7' })).toEqual({ established: 1, ports: { '8080': 1 } });
  });

  it('never counts excluded ports (the reporter), and reports listed ports with 0', () => {
    const counts = countEstablished(entries, { ports: [8080, 9471, 9000, 9000], podIP: '10.244.1.7', excludePorts: [9471] });
    expect(counts).toEqual({ established: 3, ports: { '8080': 3, '9000': 0 } });
  });

  it('counts the reporter port only if it is not excluded (the reporter always excludes it)', () => {
    expect(countEstablished(entries, { ports: [9471], podIP: '10.244.1.7' }).established).toBe(1);
  });

  it('rejects bad ports and pod IPs with a message', () => {
    expect(() => countEstablished(entries, { ports: [0] })).toThrow(/port 0 is not a TCP port/);
    expect(() => countEstablished(entries, { ports: [8080.5] })).toThrow(/not a TCP port/);
    expect(() => countEstablished(entries, { ports: [8080], podIP: 'nope' })).toThrow(/"nope" is not an IP address/);
  });

  it('gives the same answer straight from the text', () => {
    for (const opts of [
      { ports: [8080, 8081], podIP: '10.244.1.7' },
      { ports: [8080, 8081] },
      { ports: [8080], podIP: 'fd00::7' },
      { ports: [8080, 9471], podIP: '10.244.1.7', excludePorts: [9471] },
    ]) {
      expect(countEstablishedInText([podTcp, podTcp6], opts)).toEqual(countEstablished(entries, opts));
    }
    const real = parseProcNetTcp(kernelTcp + kernelTcp6);
    const opts = { ports: [18080, 18081, 18082, 18090], podIP: '127.0.0.1' };
    expect(countEstablishedInText(kernelTcp + kernelTcp6, opts)).toEqual(countEstablished(real, opts));
    expect(countEstablished(real, opts)).toEqual({
      established: 2,
      ports: { '18080': 1, '18081': 1, '18082': 0, '18090': 0 },
    });
  });

  it('does not count malformed lines', () => {
    const text = '   0: 0701F40Z:1F90 0100F40A:C350 01 00000000:00000000\n   1: 07 1F40A:1F90 0100F40A:C350 01 0\n';
    expect(countEstablishedInText(text, { ports: [8080] }).established).toBe(0);
    expect(countEstablished(parseProcNetTcp(text), { ports: [8080] }).established).toBe(0);
  });

  describe('100k sockets', () => {
    // 100k sockets: half IPv4, half IPv4-mapped, most ESTABLISHED on the app ports.
    const lines: string[] = [HEADER4];
    for (let i = 0; i < 100_000; i++) {
      const peer = ((i * 2654435761) >>> 0).toString(16).toUpperCase().padStart(8, '0');
      const peerPort = (1024 + (i % 60000)).toString(16).toUpperCase().padStart(4, '0');
      const state = i % 5 === 0 ? '06' : '01';
      lines.push(
        i % 2 === 0
          ? `${String(i).padStart(4)}: 0701F40A:1F90 ${peer}:${peerPort} ${state} 00000000:00000000 00:00000000 00000000     0        0 26568 1 0000000069ff9379 20 0 0 10 -1                     `
          : `${String(i).padStart(4)}: 0000000000000000FFFF00000701F40A:1F91 0000000000000000FFFF0000${peer}:${peerPort} ${state} 00000000:00000000 00:00000000 00000000     0        0 26567 1 00000000b2457e72 20 0 0 10 -1`,
      );
    }
    const text = lines.join('\n');
    const opts = { ports: [8080, 8081, 9471], podIP: '10.244.1.7', excludePorts: [9471] };
    // How fast is the benchmark's question (README, Benchmarks: "reporter: counting /proc/net/tcp"); here, that 100k lines count right.
    it('counts 100k lines from text', () => {
      expect(countEstablishedInText(text, opts)).toEqual({ established: 80_000, ports: { '8080': 40_000, '8081': 40_000 } });
    });

    it('parses and counts 100k lines into entries, with the same answer', () => {
      expect(countEstablished(parseProcNetTcp(text), opts)).toEqual(countEstablishedInText(text, opts));
    });
  });
});
