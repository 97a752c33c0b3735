#!/usr/bin/env node
// The `faultline` command: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

// The CLI runs wherever its user's Node is; the SDK's Node 22 notice is not theirs to act on here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../shared/cli/main.ts');
