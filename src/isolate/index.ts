// Public surface of isolate: tenants × tenants reach and flows, with witnesses, on the compiled policy
// (or on what Landlock enforces). `hatter isolate`, learn and lint use it.
export {
  isolation, ruleSite, ACCESS_KINDS, FLOW_KINDS, KIND_MARK, STATELESS_PATHS,
  type AccessKind, type AllowedFlow, type Flow, type FlowKind, type IndirectKind, type IsolationOptions, type IsolationResult,
  type LandlockGrant, type RuleSite, type SharedReach,
} from './isolation.js';
