// The cluster's network namespace: how it is made (root or a user namespace first), and the seal
// check (sealProblems) on JSON shaped as `ip -details -json link show` and `ip -json route show
// table all` print it.
import { sealProblems, unshareFlags, type LinkInfo, type RouteInfo } from '../../../scripts/cluster/network/namespace.js';

// As printed inside a namespace holding lo, the bridge and one pod veth (fields trimmed).
const LINKS = `[
  {"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00"},
  {"ifindex":2,"ifname":"rainbow0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"6a:b0:3e:d2:0c:07",
   "linkinfo":{"info_kind":"bridge","info_data":{"forward_delay":1500,"stp_state":0,"vlan_filtering":0}}},
  {"ifindex":4,"link_netnsid":0,"ifname":"veth3f2a","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"master":"rainbow0","operstate":"UP","link_type":"ether",
   "linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","learning":true}}}
]`;
const ROUTES = `[
  {"type":"unreachable","dst":"default","flags":[]},
  {"dst":"10.96.0.0/16","dev":"rainbow0","scope":"link","flags":[]},
  {"dst":"10.244.0.0/20","dev":"rainbow0","protocol":"kernel","scope":"link","prefsrc":"10.244.0.1","flags":[]},
  {"dst":"10.244.0.5","dev":"veth3f2a","scope":"link","flags":[]},
  {"type":"local","dst":"10.250.0.2","dev":"rainbow0","table":"local","protocol":"kernel","scope":"host","prefsrc":"10.250.0.2","flags":[]},
  {"type":"local","dst":"127.0.0.0/8","dev":"lo","table":"local","protocol":"kernel","scope":"host","prefsrc":"127.0.0.1","flags":[]},
  {"type":"broadcast","dst":"127.255.255.255","dev":"lo","table":"local","protocol":"kernel","scope":"link","prefsrc":"127.0.0.1","flags":[]},
  {"dst":"fe80::/64","dev":"rainbow0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
  {"type":"local","dst":"::1","dev":"lo","table":"local","protocol":"kernel","metric":0,"flags":[],"pref":"medium"},
  {"type":"multicast","dst":"ff00::/8","dev":"veth3f2a","table":"local","protocol":"kernel","metric":256,"flags":[],"pref":"medium"}
]`;
const links = (): LinkInfo[] => JSON.parse(LINKS) as LinkInfo[];
const routes = (): RouteInfo[] => JSON.parse(ROUTES) as RouteInfo[];

const eth0 = JSON.parse(
  '{"ifindex":3,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1400,"operstate":"UP","link_type":"ether","parentbus":"virtio","parentdev":"virtio2"}',
) as LinkInfo;

test('lo, the bridge and pod veths on it, with routes only on those, are sealed', () => {
  expect(sealProblems(links(), routes())).toEqual([]);
  expect(sealProblems(links().slice(0, 2), routes().filter((r) => r.dev !== 'veth3f2a'))).toEqual([]);
});

test('an eth0 in the namespace breaks the seal, and so does a route through it', () => {
  const problems = sealProblems([...links(), eth0], routes());
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/^interface eth0 \(ether\)/);
  const routed = sealProblems([...links(), eth0], [...routes(), { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link' } as RouteInfo]);
  expect(routed).toHaveLength(2);
  expect(routed[1]).toMatch(/route 192\.0\.2\.0\/24 leaves through eth0/);
});

test('a veth that is not a port of the bridge breaks the seal', () => {
  const loose = { ifname: 'vethloose', link_type: 'ether', linkinfo: { info_kind: 'veth' } } satisfies LinkInfo;
  const elsewhere = { ifname: 'vethother', master: 'br-other', link_type: 'ether', linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge' } } satisfies LinkInfo;
  const problems = sealProblems([...links(), loose, elsewhere], routes());
  expect(problems).toHaveLength(2);
  expect(problems[0]).toMatch(/interface vethloose \(veth\)/);
  expect(problems[1]).toMatch(/interface vethother \(veth, on br-other\)/);
});

test('a route through a gateway breaks the seal, even on the bridge', () => {
  const problems = sealProblems(links(), [...routes(), { dst: '192.0.2.0/24', gateway: '10.250.0.1', dev: 'rainbow0', flags: [] } as RouteInfo]);
  expect(problems).toEqual(['route 192.0.2.0/24 goes through a gateway (10.250.0.1)']);
});

test('a route on a device that is not one of the namespace\'s allowed interfaces breaks the seal', () => {
  const problems = sealProblems(links(), [...routes(), { dst: '10.1.0.0/16', dev: 'tun0', scope: 'link' } as RouteInfo]);
  expect(problems).toEqual(['route 10.1.0.0/16 leaves through tun0, which is not one of the cluster\'s own interfaces']);
});

test('a default unicast route breaks the seal; unreachable and blackhole defaults do not', () => {
  const unicast = sealProblems(links(), [...routes(), { dst: 'default', dev: 'rainbow0', table: '100', scope: 'link' } as RouteInfo]);
  expect(unicast).toEqual(['a default route (unicast via rainbow0)']);
  expect(sealProblems(links(), [{ dst: 'default', type: 'blackhole' }, { dst: 'default', type: 'unreachable' }])).toEqual([]);
  const viaGateway = sealProblems(links(), [{ dst: 'default', gateway: '192.0.2.1', dev: 'rainbow0' }]);
  expect(viaGateway).toEqual(['route default goes through a gateway (192.0.2.1)']);
});

test('the machine\'s own network, as `ip` prints it, is far from sealed', () => {
  const hostLinks = [links()[0]!, eth0];
  const hostRoutes: RouteInfo[] = [
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '192.0.2.0/24', dev: 'eth0' },
  ];
  const problems = sealProblems(hostLinks, hostRoutes);
  expect(problems).toHaveLength(3);
  expect(problems.join('\n')).toMatch(/interface eth0[\s\S]*gateway \(192\.0\.2\.1\)[\s\S]*leaves through eth0/);
});

test('an interface named like the bridge that is not a bridge breaks the seal', () => {
  const fake = links().map((l) => (l.ifname === 'rainbow0' ? { ...l, linkinfo: { info_kind: 'veth' } } : l));
  expect(sealProblems(fake, routes()).join('\n')).toMatch(/interface rainbow0 \(veth\)/);
});

test('a route with next hops breaks the seal, whatever its devices', () => {
  const multipath: RouteInfo = { dst: '192.0.2.0/24', nexthops: [{ gateway: '10.244.0.9', dev: 'rainbow0' }, { dev: 'rainbow0' }] };
  expect(sealProblems(links(), [...routes(), multipath])).toEqual(['route 192.0.2.0/24 has next hops (10.244.0.9, rainbow0)']);
});

test('as root the namespace is a network namespace; otherwise a user namespace comes first', () => {
  expect(unshareFlags(true, () => { throw new Error('not asked as root'); })).toEqual({ flags: ['--net'], rootless: false });
  expect(unshareFlags(false, () => ({ status: 0 }))).toEqual({ flags: ['--user', '--map-root-user', '--net'], rootless: true });
});

test('without root or user namespaces, one error says what is missing and how to enable it', () => {
  const fails = () => unshareFlags(false, () => ({ status: 1, stderr: 'unshare: unshare failed: Operation not permitted\n' }));
  expect(fails).toThrow(/needs root or unprivileged user namespaces, and neither is available here \(unshare --user --net said: unshare: unshare failed: Operation not permitted\)/);
  expect(fails).toThrow(/Run it as root, or enable user namespaces: sysctl -w user.max_user_namespaces=28633.*kernel.unprivileged_userns_clone=1.*kernel.apparmor_restrict_unprivileged_userns=0/);
});
