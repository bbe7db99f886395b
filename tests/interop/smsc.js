// An SMSC built on the npm `smpp` package, for interoperability tests and the benchmark.
// Usage: node smsc.js <system_id> <password> [bench]
// Prints "LISTEN <port>" once listening on 127.0.0.1 (port chosen by the OS).
// Test mode: the first submit_sm gets ESME_RTHROTTLED; every other one gets a hex message id and,
// 50 ms later, a delivery receipt naming the id in decimal (carriers mix the two). A line
// "MO <from> <to> <text>" on stdin is delivered to the bound session as a mobile-originated
// deliver_sm. A line "RECEIPTS LAST" makes later receipts go to the last bound session instead of
// the submitting one (carriers send receipts on any of a client's binds). Events are printed one
// per line as JSON for the test to read.
'use strict';
const smpp = require('smpp');

const [systemId, password, mode] = process.argv.slice(2);
const bench = mode === 'bench';
let next = 0xa000;
let throttledOnce = bench;
let bound = null;
let receiptsOnLast = false;

function emit(obj) {
  if (!bench) process.stdout.write(JSON.stringify(obj) + '\n');
}

function stamp(d) {
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
    p(d.getUTCHours()) + p(d.getUTCMinutes());
}

const server = smpp.createServer({}, (session) => {
  const onBind = (pdu) => {
    session.pause();
    if (pdu.system_id !== systemId || pdu.password !== password) {
      emit({ event: 'bind_refused', system_id: pdu.system_id });
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    bound = session;
    emit({ event: 'bound', command: pdu.command });
    session.send(pdu.response({ system_id: 'npm-smsc' }));
    session.resume();
  };
  session.on('bind_transceiver', onBind);
  session.on('bind_transmitter', onBind);
  session.on('bind_receiver', onBind);
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on('error', () => {});
  session.on('submit_sm', (pdu) => {
    if (!throttledOnce) {
      throttledOnce = true;
      emit({ event: 'throttled' });
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      return;
    }
    next += 1;
    const id = next;
    session.send(pdu.response({ message_id: id.toString(16) }));
    if (bench) return;
    const sm = pdu.short_message || {};
    const text = typeof sm === 'string' ? sm : (sm.message || '');
    emit({
      event: 'submit', id: id.toString(16), source: pdu.source_addr,
      destination: pdu.destination_addr, text, udh: !!(sm.udh && sm.udh.length),
    });
    setTimeout(() => {
      const now = stamp(new Date());
      const on = receiptsOnLast && bound ? bound : session;
      on.deliver_sm({
        source_addr: pdu.destination_addr,
        source_addr_ton: 1,
        source_addr_npi: 1,
        destination_addr: pdu.source_addr,
        esm_class: 4,
        short_message: `id:${id} sub:001 dlvrd:001 submit date:${now} done date:${now} stat:DELIVRD err:000 text:`,
      }, (resp) => emit({ event: 'receipt_ack', id: id.toString(16), status: resp.command_status }));
    }, 50);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write('LISTEN ' + server.address().port + '\n');
});

let input = '';
process.stdin.on('data', (chunk) => {
  input += chunk;
  let nl;
  while ((nl = input.indexOf('\n')) >= 0) {
    const line = input.slice(0, nl).trim();
    input = input.slice(nl + 1);
    if (line === 'RECEIPTS LAST') {
      receiptsOnLast = true;
      continue;
    }
    const m = /^MO (\S+) (\S+) (.*)$/.exec(line);
    if (!m || !bound) continue;
    bound.deliver_sm({
      source_addr: m[1], source_addr_ton: 1, source_addr_npi: 1,
      destination_addr: m[2], esm_class: 0,
      short_message: { message: m[3] },
    }, (resp) => emit({ event: 'mo_ack', status: resp.command_status }));
  }
});
process.stdin.on('end', () => process.exit(0));
