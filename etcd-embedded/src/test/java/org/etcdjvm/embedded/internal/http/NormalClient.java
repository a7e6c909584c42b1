package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.embedded.RawHttp;

/**
 * The well-behaved client of the abuse tests: from 127.0.0.1 (the abusers use other loopback
 * addresses), on a fresh connection, a GET, a PUT and a GET of what it wrote, each answered within
 * the socket's read timeout (10 s: generous, the point is that it is answered at all).
 */
final class NormalClient {
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  private NormalClient() {}

  /** Fails unless the node at {@code url} answers a GET and a PUT of this client. */
  static void isServed(String url) {
    String value = "v" + SEQUENCE.incrementAndGet();
    try (RawHttp c = new RawHttp(url, "127.0.0.1")) {
      c.setReadTimeout(10_000);
      c.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(c.read().body()).isEqualTo("etcd v0.1.2");
      String body = "value=" + value;
      c.send("PUT /v1/keys/normal HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
          + "Content-Length: " + body.length() + "\r\n\r\n" + body);
      RawHttp.Response put = c.read();
      assertThat(put.status()).as(put.body()).isEqualTo(200);
      c.send("GET /v1/keys/normal HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(c.read().body()).contains("\"value\":\"" + value + "\"");
    }
  }
}
