/**
 * Conformance replay: Okta SCIM 2.0 SPEC Test (Runscope export).
 * Each fixture runs against a fresh app + tenant from the shared harness, once per database.
 */
import { replaySuite } from './replay.js';

replaySuite(['okta-runscope-spec-test']);
