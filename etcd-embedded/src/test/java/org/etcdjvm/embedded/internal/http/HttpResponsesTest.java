package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HttpResponsesTest {

  private static String body(FullHttpResponse response) {
    return response.content().toString(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @EnumSource(EtcdError.class)
  void errorsAre500For3xxCodesAnd400OtherwiseWithJsonEndingInNewline(EtcdError error) {
    FullHttpResponse response = HttpResponses.error(HttpVersion.HTTP_1_1, error, "because");
    try {
      assertThat(response.status().code()).isEqualTo(error.code() / 100 == 3 ? 500 : 400);
      assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
      assertThat(body(response))
          .startsWith("{\"errorCode\":" + error.code() + ",")
          .endsWith("\"cause\":\"because\"}\n");
      assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH))
          .isEqualTo(response.content().readableBytes());
    } finally {
      response.release();
    }
  }

  @Test
  void anExplicitStatusOverridesTheErrorsOwn() {
    FullHttpResponse response = HttpResponses.error(HttpVersion.HTTP_1_1, HttpResponseStatus.SERVICE_UNAVAILABLE,
        EtcdError.RAFT_INTERNAL, "too many watchers");
    try {
      assertThat(response.status().code()).isEqualTo(503);
      assertThat(body(response))
          .isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\",\"cause\":\"too many watchers\"}\n");
    } finally {
      response.release();
    }
  }

  @Test
  void notFoundIsGosPlainText() {
    FullHttpResponse response = HttpResponses.notFound(HttpVersion.HTTP_1_1);
    try {
      assertThat(response.status().code()).isEqualTo(404);
      assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/plain; charset=utf-8");
      assertThat(body(response)).isEqualTo("404 page not found\n");
    } finally {
      response.release();
    }
  }

  @Test
  void methodNotAllowedHasAnEmptyBodyAndSaysWhatIsAllowed() {
    FullHttpResponse response = HttpResponses.methodNotAllowed(HttpVersion.HTTP_1_1, KeysRoute.ALLOW);
    try {
      assertThat(response.status().code()).isEqualTo(405);
      assertThat(response.content().readableBytes()).isZero();
      assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isNull();
      assertThat(response.headers().get(HttpHeaderNames.ALLOW)).isEqualTo("GET, POST, PUT, DELETE");
    } finally {
      response.release();
    }
  }

  @Test
  void textIsUtf8PlainText() {
    FullHttpResponse response = HttpResponses.text(HttpVersion.HTTP_1_0, HttpResponseStatus.OK, "etcd v0.1.2");
    try {
      assertThat(response.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_0);
      assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/plain; charset=utf-8");
      assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(11);
      assertThat(body(response)).isEqualTo("etcd v0.1.2");
    } finally {
      response.release();
    }
  }
}
