// The layout's one rule, checked by npm test (test/unit/layout/import-direction.test.ts): the five
// processes (webhook, controller, reporter, status, the demo app) import what they share — the
// color domain, the admission envelope, Kubernetes I/O, networking, the runtime — and never one
// another; what they share imports no process.
const ROLES = '(webhook|controller|reporter|status|app)';
const SHARED = '(domain|admission|kube|net|runtime)';

module.exports = {
  forbidden: [
    {
      name: 'no-role-to-role',
      comment: 'A process imports what the processes share, never another process.',
      severity: 'error',
      from: { path: `^webhook/src/${ROLES}/` },
      to: { path: `^webhook/src/${ROLES}/`, pathNot: '^webhook/src/$1/' },
    },
    {
      name: 'shared-imports-no-role',
      comment: 'What the processes share stands below all of them.',
      severity: 'error',
      from: { path: `^webhook/src/${SHARED}/` },
      to: { path: `^webhook/src/${ROLES}/` },
    },
    {
      name: 'no-circular',
      comment: 'Modules that import each other in a loop.',
      severity: 'error',
      from: { path: '^webhook/src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
