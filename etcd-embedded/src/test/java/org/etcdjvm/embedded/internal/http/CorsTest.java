package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** etcd 0.1.2's {@code -cors}, on raw bytes through the connection pipeline. */
class CorsTest {

  private static String exchange(List<String> origins, String request) {
    EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        HttpConfig config = HttpConfig.of("127.0.0.1", 0).toBuilder().maxBodyBytes(1024)
            .idleTimeout(java.time.Duration.ZERO).readHeaderTimeout(java.time.Duration.ZERO)
            .readBodyTimeout(java.time.Duration.ZERO).writeTimeout(java.time.Duration.ZERO).build();
        Admission admission = new Admission(config, new LimitWarnings());
        V1HttpServer.configure(ch.pipeline(), new V1Routes(null, config, origins), config, admission,
            admission.admitConnection(ch.remoteAddress()));
      }
    });
    try {
      channel.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
      StringBuilder sb = new StringBuilder();
      for (Object o; (o = channel.readOutbound()) != null; ) {
        ByteBuf buf = (ByteBuf) o;
        sb.append(buf.toString(StandardCharsets.UTF_8));
        buf.release();
      }
      return sb.toString();
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void anAllowedOriginGetsTheHeaderAndOthersDoNot() {
    List<String> allowed = List.of("http://localhost:8001");
    assertThat(exchange(allowed, "GET /version HTTP/1.1\r\nOrigin: http://localhost:8001\r\n\r\n"))
        .startsWith("HTTP/1.1 200 OK\r\n").contains("access-control-allow-origin: http://localhost:8001\r\n");
    assertThat(exchange(allowed, "GET /version HTTP/1.1\r\nOrigin: http://evil.example\r\n\r\n"))
        .startsWith("HTTP/1.1 200 OK\r\n").doesNotContain("access-control");
    assertThat(exchange(List.of(), "GET /version HTTP/1.1\r\nOrigin: http://localhost:8001\r\n\r\n"))
        .doesNotContain("access-control");
  }

  @Test
  void aWildcardAllowsAnyOriginAndErrorsCarryTheHeaderToo() {
    assertThat(exchange(List.of("*"), "GET /nowhere HTTP/1.1\r\nOrigin: http://a.example\r\n\r\n"))
        .startsWith("HTTP/1.1 404 Not Found\r\n").contains("access-control-allow-origin: *\r\n");
  }

  @Test
  void aPreflightFromAnAllowedOriginIsAnswered() {
    String reply = exchange(List.of("*"), "OPTIONS /v1/keys/foo HTTP/1.1\r\nOrigin: http://a.example\r\n"
        + "Access-Control-Request-Method: PUT\r\n\r\n");
    assertThat(reply).startsWith("HTTP/1.1 200 OK\r\n")
        .contains("access-control-allow-origin: *\r\n")
        .contains("access-control-allow-methods: POST, GET, PUT, DELETE\r\n")
        .contains("access-control-allow-headers: Content-Type\r\n");
    assertThat(exchange(List.of(), "OPTIONS /v1/keys/foo HTTP/1.1\r\nOrigin: http://a.example\r\n"
        + "Access-Control-Request-Method: PUT\r\n\r\n")).startsWith("HTTP/1.1 405 ");
  }
}
