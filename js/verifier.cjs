// faceproof/verifier: the relying party's side, for Node.js (no models, no inference).
//   const { RelyingParty, verifyProof, referenceInfo } = require('faceproof/verifier');
'use strict';
module.exports = require('./node/faceproof_verifier.js');
