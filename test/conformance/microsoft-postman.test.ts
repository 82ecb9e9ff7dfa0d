/**
 * Conformance replay: Microsoft SCIMReferenceCode Postman collection.
 * Each fixture runs against a fresh app + tenant from the shared harness, once per database.
 */
import { replaySuite } from './replay.js';

replaySuite(['entra-microsoft-postman']);
