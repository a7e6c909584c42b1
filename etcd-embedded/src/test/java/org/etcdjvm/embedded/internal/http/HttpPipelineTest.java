package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The connection pipeline (codec, body limit, {@link HttpConnection}, routing) on raw bytes, for
 * the requests that are answered without a replica: transport limits, keep-alive, pipelining order,
 * routing of unknown paths and early validation errors. Everything that reads or writes keys is
 * covered by the integration tests against a real node.
 */
class HttpPipelineTest {
  private static final int MAX_BODY = 64;
  private static final String TOO_LARGE =
      "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"request body is larger than 64 bytes\"}\n";

  private final EmbeddedChannel channel = newChannel(MAX_BODY);

  /** The pipeline of one connection, with every deadline off (this channel's clock does not move). */
  private static EmbeddedChannel newChannel(int maxBody) {
    return new EmbeddedChannel(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        HttpConfig config = HttpConfig.of("127.0.0.1", 0).toBuilder().maxBodyBytes(maxBody)
            .idleTimeout(Duration.ZERO).readHeaderTimeout(Duration.ZERO).readBodyTimeout(Duration.ZERO)
            .writeTimeout(Duration.ZERO).build();
        Admission admission = new Admission(config, new LimitWarnings());
        V1HttpServer.configure(ch.pipeline(), new V1Routes(null, config), config, admission,
            admission.admitConnection(ch.remoteAddress()));
      }
    });
  }

  @AfterEach
  void tearDown() {
    channel.finishAndReleaseAll();
  }

  private void send(String raw) {
    channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
  }

  private String received() {
    StringBuilder sb = new StringBuilder();
    for (Object o; (o = channel.readOutbound()) != null; ) {
      ByteBuf buf = (ByteBuf) o;
      sb.append(buf.toString(StandardCharsets.UTF_8));
      buf.release();
    }
    return sb.toString();
  }

  @Test
  void versionIsPlainText() {
    send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(received()).isEqualTo("HTTP/1.1 200 OK\r\n"
        + "content-type: text/plain; charset=utf-8\r\ncontent-length: 11\r\n\r\netcd v0.1.2");
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void unknownPathsAreGos404() {
    for (String path : new String[] {"/x", "/v1", "/v1/keysx", "/leader", "/v1/leader/", "/version/"}) {
      send("GET " + path + " HTTP/1.1\r\n\r\n");
      assertThat(received()).as(path).startsWith("HTTP/1.1 404 Not Found\r\n").endsWith("\r\n\r\n404 page not found\n");
    }
  }

  @Test
  void theRootAnswersTheVersionAsEtcd010Did() {
    send("GET / HTTP/1.1\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\netcd v0.1.2");
  }

  @Test
  void unknownStatsAreAnEmpty200() {
    send("GET /v1/stats/whatever HTTP/1.1\r\n\r\nGET /v1/stats HTTP/1.1\r\n\r\n");
    assertThat(received()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".repeat(2));
  }

  @Test
  void headAndOtherMethodsOnKeysAre405WithAnEmptyBody() {
    send("HEAD /v1/keys/foo HTTP/1.1\r\n\r\nOPTIONS /v1/keys HTTP/1.1\r\n\r\nPATCH /v1/watch/foo HTTP/1.1\r\n\r\n");
    assertThat(received()).isEqualTo(
        "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nallow: GET, POST, PUT, DELETE\r\n\r\n"
            + "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nallow: GET, POST, PUT, DELETE\r\n\r\n"
            + "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nallow: GET, POST\r\n\r\n");
  }

  @Test
  void aWatchPostWithoutIndexIsError203() {
    send("POST /v1/watch/foo HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: 7\r\n\r\nindex=x");
    assertThat(received()).startsWith("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n")
        .endsWith("\r\n\r\n{\"errorCode\":203,\"message\":\"The given index in POST form is not a number\","
            + "\"cause\":\"Watch From Index\"}\n");
  }

  @Test
  void anOversizedBodyGets413WithTheEtcdErrorAndTheConnectionServesTheNextRequest() {
    send("POST /v1/keys/foo HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: 100\r\n\r\n");
    assertThat(received()).isEqualTo("HTTP/1.1 413 Request Entity Too Large\r\n"
        + "content-type: application/json\r\ncontent-length: " + TOO_LARGE.length() + "\r\n\r\n" + TOO_LARGE);
    send("value=" + "x".repeat(94)); // the rest of the body, thrown away
    send("GET /version HTTP/1.1\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.1 200 OK").endsWith("etcd v0.1.2");
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void expectContinueWithAnOversizedBodyGets413InsteadOf100() {
    send("PUT /v1/keys/foo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
    String response = received();
    assertThat(response).doesNotContain("100 Continue").startsWith("HTTP/1.1 413 ").endsWith(TOO_LARGE);
  }

  @Test
  void expectContinueWithinTheLimitGetsTheGoAhead() {
    send("POST /v1/stats/x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    assertThat(received()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
    send("a=b");
    assertThat(received()).isEqualTo("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  }

  @Test
  void aChunkedBodyThatGrowsTooLargeGets413() {
    send("POST /v1/keys/foo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + "v".repeat(64) + "\r\n");
    assertThat(received()).isEmpty();
    send("1\r\nv\r\n0\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.1 413 ").endsWith(TOO_LARGE);
    send("GET /version HTTP/1.1\r\n\r\n");
    assertThat(received()).endsWith("etcd v0.1.2");
  }

  @Test
  void anOversizedBodyWithoutKeepAliveGets413AndThenTheConnectionCloses() {
    send("POST /v1/keys/foo HTTP/1.0\r\nContent-Length: 100\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.0 413 ").contains("connection: close\r\n").endsWith(TOO_LARGE);
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() {
    send("GET /version HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\nGET /v1/stats/x HTTP/1.1\r\n\r\n");
    String all = received();
    assertThat(all.indexOf("etcd v0.1.2")).isLessThan(all.indexOf("404 page not found"));
    assertThat(all.indexOf("404 page not found")).isLessThan(all.lastIndexOf("HTTP/1.1 200 OK"));
  }

  @Test
  void http10KeepAliveIsHonoured() {
    send("GET /version HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.0 200 OK\r\n").contains("connection: keep-alive\r\n");
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void http10WithoutKeepAliveClosesAfterTheResponse() {
    send("GET /version HTTP/1.0\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.0 200 OK\r\n").contains("connection: close\r\n");
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void connectionCloseClosesAfterTheResponseAndIgnoresWhatFollows() {
    send("GET /version HTTP/1.1\r\nConnection: close\r\n\r\nGET /version HTTP/1.1\r\n\r\n");
    String all = received();
    assertThat(all).contains("connection: close\r\n");
    assertThat(all.split("HTTP/1.1 200", -1)).hasSize(2);
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aMalformedRequestGetsTheEtcdErrorAndTheConnectionCloses() {
    send("GET /version HTTP/1.1\r\nNo colon here\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close\r\n")
        .endsWith("{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"malformed HTTP request\"}\n");
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void anOverlongRequestLineGets414() {
    send("GET /" + "a".repeat(V1HttpServer.MAX_REQUEST_LINE_BYTES) + " HTTP/1.1\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.1 414 Request-URI Too Long\r\n")
        .endsWith("\"cause\":\"request line is longer than 65536 bytes\"}\n");
  }

  @Test
  void overlongHeadersGet431() {
    send("GET /version HTTP/1.1\r\nX-Big: " + "a".repeat(V1HttpServer.MAX_HEADER_BYTES) + "\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n")
        .endsWith("\"cause\":\"request headers are larger than 65536 bytes\"}\n");
  }

  @Test
  void aProtocolOtherThanHttp1IsRefusedWith400InHttp11() {
    for (String version : new String[] {"HTTP/9.9", "HTTP/2.0"}) {
      EmbeddedChannel ch = newChannel(MAX_BODY);
      ch.writeInbound(Unpooled.copiedBuffer("GET /version " + version + "\r\n\r\n", StandardCharsets.ISO_8859_1));
      StringBuilder out = new StringBuilder();
      for (Object o; (o = ch.readOutbound()) != null; ) {
        out.append(((ByteBuf) o).toString(StandardCharsets.UTF_8));
        ((ByteBuf) o).release();
      }
      assertThat(out.toString()).as(version).startsWith("HTTP/1.1 400 Bad Request\r\n").contains("connection: close")
          .endsWith("\"cause\":\"malformed HTTP request: unsupported protocol version\"}\n");
      ch.finishAndReleaseAll();
    }
    send("GET /version HTTP/1.7\r\n\r\n");
    assertThat(received()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("etcd v0.1.2");
  }
}
