import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSmtpTransport, smtpOptions } from '../../src/delivery/mail-transport.js';
import { TestSmtpServer } from '../support/smtp.js';

describe('SMTP transport', () => {
  let smtp: TestSmtpServer;
  let url = '';
  before(async () => {
    smtp = new TestSmtpServer();
    url = await smtp.start();
  });
  after(async () => smtp.stop());

  it('letters share pooled connections instead of one connection each', async () => {
    const transport = createSmtpTransport(url, 'Latchkey <noreply@example.com>');
    try {
      for (let i = 0; i < 6; i += 1) await transport.send({ to: `person${i}@example.com`, subject: `letter ${i}`, text: 'hello', html: '<p>hello</p>' });
      await smtp.waitFor((mail) => mail.subject.startsWith('letter '), 6);
      assert.equal(smtp.connections, 1, 'six letters one after another go over one connection');
    } finally {
      transport.close();
    }
  });

  it('the URL gives host, port, TLS and credentials; the pool and time-outs apply beside it', () => {
    const plain = smtpOptions('smtp://relay%40example.com:p%3Ass@mail.example.com:2525?tls.rejectUnauthorized=false');
    assert.equal(plain.host, 'mail.example.com');
    assert.equal(plain.port, 2525);
    assert.equal(plain.secure, false);
    assert.deepEqual(plain.auth, { user: 'relay@example.com', pass: 'p:ss' });
    assert.deepEqual(plain.tls, { rejectUnauthorized: false });
    assert.equal(plain.pool, true);
    assert.equal(plain.connectionTimeout, 10_000);
    assert.equal(plain.socketTimeout, 30_000);
    assert.equal(smtpOptions('smtps://mail.example.com').secure, true);
  });
});
