// Reading a Service's programmed endpoints off kube-proxy's nftables rules, as the benchmarks do
// before they open streams.
import { serviceChains } from '../../../scripts/cluster/kube-proxy-rules.js';

const table = `table ip kube-proxy {
	chain service-ULMVA6XW-default/kubernetes/tcp/https {
		ip daddr 10.96.0.1 tcp dport 443 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-2AHT5KL6-default/kubernetes/tcp/https__10.250.0.2/6443 }
	}

	chain service-4NQ2KHZV-shop/web/tcp/tcp {
		ip daddr 10.96.0.77 tcp dport 8081 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 2 vmap { 0 : goto endpoint-AAAAAAAA-shop/web/tcp/tcp__10.244.0.5/8081 , 1 : goto endpoint-BBBBBBBB-shop/web/tcp/tcp__10.244.0.6/8081 }
	}

	chain service-7QKLZP2M-shop/web/tcp/http {
		ip daddr 10.96.0.77 tcp dport 8080 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 1 vmap { 0 : goto endpoint-CCCCCCCC-shop/web/tcp/http__10.244.0.5/8080 }
	}

	chain service-ZZZZZZZZ-shop/web-canary/tcp/tcp {
		numgen random mod 1 vmap { 0 : goto endpoint-DDDDDDDD-shop/web-canary/tcp/tcp__10.244.0.9/8081 }
	}
}
`;

test("lists each TCP port's endpoints of the Service, and nothing of another Service", () => {
  expect(Object.fromEntries(serviceChains(table, 'shop', 'web'))).toEqual({ tcp: ['10.244.0.5', '10.244.0.6'], http: ['10.244.0.5'] });
  expect(Object.fromEntries(serviceChains(table, 'default', 'kubernetes'))).toEqual({ https: ['10.250.0.2'] });
  expect(serviceChains(table, 'shop', 'gone').size).toBe(0);
});
