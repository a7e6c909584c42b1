package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.junit.jupiter.api.Test;

/**
 * How a connection ends after an answer with {@code Connection: close}, over a real socket: every
 * answer written before it reaches a client that goes on sending (pipelined requests, a body we will
 * not read), even when what it sends next asks for a write of its own ({@code Expect: 100-continue}).
 * A close with unread bytes in the node's receive buffer is a reset, and a reset can destroy answers
 * the client has not read yet (RFC 9112 §9.6): the node half-closes and lingers instead.
 */
class ClosingConnectionTest {

  /**
   * Seen in HttpFuzzTest: a streamed listing, an HTTP/1.0 request answered with close, then a
   * request with {@code Expect: 100-continue}. Netty's aggregator wrote "100 Continue" for it after
   * the node had shut its output; the failed write reached {@code exceptionCaught}, which closed at
   * once, and the reset took the listing with it.
   */
  @Test
  void answersBeforeAClosingAnswerSurviveAnExpectContinueThatFollowsIt() throws Exception {
    try (TestServer server = new TestServer(TestServer.config().readBodyTimeout(Duration.ofSeconds(30)).build())) {
      fillStore(server);
      for (int round = 0; round < 5; round++) {
        try (Socket socket = pipelined(server, "GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /version HTTP/1.0\r\n\r\n"
            + "PUT /v1/keys/a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")) {
          OutputStream out = socket.getOutputStream();
          // The body follows regardless, as a client that does not wait for the go-ahead sends it.
          AtomicBoolean stop = send(out, "value=xxxx".repeat(1_000), 0);
          Thread.sleep(300); // the client reads late: the node has answered and closed by then
          InputStream in = socket.getInputStream();
          byte[] all;
          try {
            all = readAll(in, 0);
          } finally {
            stop.set(true);
          }
          String text = new String(all, StandardCharsets.UTF_8);
          assertThat(text).as("round %d", round).startsWith("HTTP/1.1 200 OK");
          int second = text.indexOf("HTTP/1.0 200 OK");
          assertThat(second).as("round %d: the answer to the HTTP/1.0 request follows the listing whole (%d bytes"
              + " read)", round, all.length).isPositive();
          String listing = text.substring(0, second);
          assertThat(listing).as("round %d", round).endsWith("}]");
          assertThat(listing.split("\"key\":\"/k", -1).length - 1).as("round %d: entries listed", round)
              .isEqualTo(4_000);
          assertThat(text).endsWith("etcd v0.1.2");
        }
      }
    }
  }

  /**
   * A request body that stops short passes the body deadline while an earlier request (a write
   * waiting for Raft) is being answered: nothing can be said in between, and that answer is dropped,
   * but the answers written before it must still arrive, however slowly the client reads.
   */
  @Test
  void aBodyDeadlinePassingWhileAWriteWaitsKeepsTheAnswersAlreadyWritten() throws Exception {
    HttpConfig config = TestServer.config().maxBodyBytes(1 << 20).readBodyTimeout(Duration.ofMillis(150)).build();
    try (TestServer server = new TestServer(config)) {
      fillStore(server);
      server.replica.holdWrites(true);
      for (int round = 0; round < 3; round++) {
        try (Socket socket = pipelined(server, "GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n"
            + "PUT /v1/keys/held HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: 7\r\n\r\nvalue=1"
            + "PUT /v1/keys/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: 500000\r\n\r\n")) {
          OutputStream out = socket.getOutputStream();
          AtomicBoolean stop = send(out, "value=xxxx", 2); // the body trickles in, too slowly for the deadline
          byte[] all;
          try {
            all = readAll(socket.getInputStream(), 5); // 8 KB every 5 ms: the listing takes ~0.4 s
          } finally {
            stop.set(true);
          }
          String text = new String(all, StandardCharsets.UTF_8);
          assertThat(text).as("round %d", round).startsWith("HTTP/1.1 200 OK");
          assertThat(text.split("\"key\":\"/k", -1).length - 1).as("round %d: entries listed (%d bytes read)", round,
              all.length).isEqualTo(4_000);
          assertThat(text).as("round %d: nothing after the listing", round).endsWith("}]");
        }
      }
      server.replica.releaseHeldWrites();
    }
  }

  /** A connection to the node on which {@code requests} have been sent, all at once. */
  private static Socket pipelined(TestServer server, String requests) throws IOException {
    URI uri = URI.create(server.url);
    Socket socket = new Socket(uri.getHost(), uri.getPort());
    socket.getOutputStream().write(requests.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    return socket;
  }

  /** 4 000 keys of 100 bytes: a root listing of ~600 KB, streamed, and more than fits unread in buffers. */
  private static void fillStore(TestServer server) throws Exception {
    String value = "v".repeat(100);
    for (int i = 0; i < 4_000; i++) {
      server.replica.store().apply(new SetOp("/k" + i, value, null, null, false), Instant.now());
    }
  }

  /**
   * Writes {@code chunk} over and over, {@code pauseMillis} apart, until the returned flag is set or
   * the node hangs up.
   */
  private static AtomicBoolean send(OutputStream out, String chunk, int pauseMillis) {
    AtomicBoolean stop = new AtomicBoolean();
    byte[] bytes = chunk.getBytes(StandardCharsets.ISO_8859_1);
    Thread sender = new Thread(() -> {
      try {
        while (!stop.get()) {
          out.write(bytes);
          if (pauseMillis > 0) {
            Thread.sleep(pauseMillis);
          }
        }
      } catch (IOException | InterruptedException closed) {
        // the node hung up: expected once it has answered
      }
    });
    sender.setDaemon(true);
    sender.start();
    return stop;
  }

  /** Everything until the end of the stream; a reset after some bytes ends it too (then the text is short). */
  private static byte[] readAll(InputStream in, int pauseMillis) throws IOException, InterruptedException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      for (int n; (n = in.read(buf)) >= 0; ) {
        all.write(buf, 0, n);
        Thread.sleep(pauseMillis);
      }
    } catch (SocketException reset) {
      // what the client sees of a reset: the assertions say what was lost
    }
    return all.toByteArray();
  }
}
