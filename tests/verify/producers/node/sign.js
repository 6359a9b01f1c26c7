// Sign a PDF with @signpdf (node-forge's PKCS#7), for sohoa's multi-producer verification corpus.
// Usage: node sign.js IN.pdf OUT.pdf KEY.p12   (the PKCS#12 passphrase comes from the environment
// variable SIGNPDF_P12_PASSWORD, never argv). SIGNPDF_SIGNING_TIME (ISO 8601) fixes the signing time
// so the output is deterministic; SIGNPDF_SUBFILTER picks the SubFilter (adbe.pkcs7.detached default).
'use strict';
const fs = require('fs');
const { SignPdf } = require('@signpdf/signpdf');
const { P12Signer } = require('@signpdf/signer-p12');
const { plainAddPlaceholder } = require('@signpdf/placeholder-plain');

async function main() {
  const [input, output, p12] = process.argv.slice(2);
  if (!input || !output || !p12) {
    console.error('usage: node sign.js IN.pdf OUT.pdf KEY.p12');
    process.exit(2);
  }
  const time = process.env.SIGNPDF_SIGNING_TIME ? new Date(process.env.SIGNPDF_SIGNING_TIME) : undefined;
  const withPlaceholder = plainAddPlaceholder({
    pdfBuffer: fs.readFileSync(input),
    reason: 'Kiểm thử',
    contactInfo: 'test@example.invalid',
    name: 'signpdf test',
    location: 'Quang Tri',
    signingTime: time,
    subFilter: process.env.SIGNPDF_SUBFILTER || 'adbe.pkcs7.detached',
    appName: '@signpdf',
  });
  const signer = new P12Signer(fs.readFileSync(p12), { passphrase: process.env.SIGNPDF_P12_PASSWORD || '' });
  const signed = await new SignPdf().sign(withPlaceholder, signer, time);
  fs.writeFileSync(output, signed);
}

main().catch((err) => {
  console.error(`signpdf failed: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
