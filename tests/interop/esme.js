// An ESME built on the npm `smpp` package, binding to consentry's SMPP listener.
// Usage: node esme.js <port> <system_id> <password> <to> <accepted text> <rejected text>
// Binds as a transceiver, submits the first text as transactional (service_type TXN) and the
// second as marketing, both asking for receipts, and prints one JSON line with what came back.
'use strict';
const smpp = require('smpp');

const [port, systemId, password, to, okText, badText] = process.argv.slice(2);
const result = { bind: null, submits: [], receipts: [] };
const session = smpp.connect({ url: `smpp://127.0.0.1:${port}`, auto_enquire_link_period: 10000 });
let finished = false;
const done = () => {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(result) + '\n');
  session.unbind(() => { session.close(); process.exit(0); });
};
setTimeout(() => { result.timeout = true; done(); }, 15000);
session.on('error', (e) => { result.error = String(e); done(); });
session.on('deliver_sm', (pdu) => {
  const sm = pdu.short_message || {};
  result.receipts.push({ esm_class: pdu.esm_class, text: typeof sm === 'string' ? sm : sm.message });
  session.send(pdu.response());
  if (result.receipts.length === 2 && result.submits.length === 2) done();
});
session.bind_transceiver({ system_id: systemId, password }, (pdu) => {
  result.bind = pdu.command_status;
  if (pdu.command_status !== 0) { done(); return; }
  const send = (text, serviceType) => new Promise((resolve) => {
    session.submit_sm({
      service_type: serviceType, destination_addr: to, dest_addr_ton: 1, dest_addr_npi: 1,
      registered_delivery: 1, short_message: text,
    }, (resp) => {
      result.submits.push({ status: resp.command_status, message_id: resp.message_id || '' });
      resolve();
    });
  });
  send(okText, 'TXN').then(() => send(badText, '')).then(() => {
    if (result.receipts.length === 2) done();
  });
});
