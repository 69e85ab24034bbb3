// The Jest example runs as ES modules, untransformed: what Node itself would load.
export default {
  rootDir: '.',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/*.test.mjs'],
  transform: {},
};
