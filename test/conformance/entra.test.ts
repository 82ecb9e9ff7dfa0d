/**
 * Conformance replay: Microsoft Entra ID provisioning (tutorial + known-issues bodies).
 * Each fixture runs against a fresh app + tenant from the shared harness, once per database.
 */
import { replaySuite } from './replay.js';

replaySuite(['entra-users', 'entra-groups']);
