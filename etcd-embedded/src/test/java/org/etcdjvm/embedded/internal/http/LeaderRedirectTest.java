package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.etcdjvm.embedded.internal.raft.MemberInfo;
import org.junit.jupiter.api.Test;

class LeaderRedirectTest {
  private static final MemberInfo LEADER = new MemberInfo("n1", "http://127.0.0.1:7001", "http://127.0.0.1:4001");

  @Test
  void locationIsTheLeadersClientUrlWithTheSameRawPathAndQuery() {
    assertThat(LeaderRedirect.location("http://127.0.0.1:4001", "/v1/keys/a%2Fb", "value=x+y&ttl=5"))
        .isEqualTo("http://127.0.0.1:4001/v1/keys/a%2Fb?value=x+y&ttl=5");
  }

  @Test
  void noQueryMeansNoQuestionMark() {
    assertThat(LeaderRedirect.location("http://127.0.0.1:4001", "/v1/keys/foo", null))
        .isEqualTo("http://127.0.0.1:4001/v1/keys/foo");
    assertThat(LeaderRedirect.location("http://127.0.0.1:4001", "/v1/keys/foo", ""))
        .isEqualTo("http://127.0.0.1:4001/v1/keys/foo");
  }

  @Test
  void aTrailingSlashOfTheClientUrlIsNotDoubled() {
    assertThat(LeaderRedirect.location("http://10.0.0.1:4001/", "/v1/keys/foo", null))
        .isEqualTo("http://10.0.0.1:4001/v1/keys/foo");
  }

  @Test
  void bytesAHeaderCannotCarryArePercentEncoded() {
    String rawUtf8 = new String("/v1/keys/\u00e9".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    assertThat(LeaderRedirect.location("http://h:1", rawUtf8, "a=b c\r"))
        .isEqualTo("http://h:1/v1/keys/%C3%A9?a=b%20c%0D");
  }

  @Test
  void aKnownLeaderGets307WithAnEmptyBody() {
    FullHttpResponse response =
        LeaderRedirect.to(Optional.of(LEADER), "n2", HttpVersion.HTTP_1_1, "/v1/keys/foo", "value=1");
    try {
      assertThat(response.status().code()).isEqualTo(307);
      assertThat(response.status().reasonPhrase()).isEqualTo("Temporary Redirect");
      assertThat(response.headers().get(HttpHeaderNames.LOCATION))
          .isEqualTo("http://127.0.0.1:4001/v1/keys/foo?value=1");
      assertThat(response.content().readableBytes()).isZero();
      assertThat(response.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isZero();
    } finally {
      response.release();
    }
  }

  @Test
  void noLeaderIsError300WithStatus500() {
    assertNoLeader(LeaderRedirect.to(Optional.empty(), "n2", HttpVersion.HTTP_1_1, "/v1/keys/foo", null));
  }

  @Test
  void aLeaderWithoutClientUrlCountsAsNoLeader() {
    MemberInfo unknownUrl = new MemberInfo("n1", "http://127.0.0.1:7001", null);
    assertNoLeader(LeaderRedirect.to(Optional.of(unknownUrl), "n2", HttpVersion.HTTP_1_1, "/v1/keys/foo", null));
  }

  @Test
  void aLeaderViewNamingThisMemberNeverRedirectsToItself() {
    assertNoLeader(LeaderRedirect.to(Optional.of(LEADER), "n1", HttpVersion.HTTP_1_1, "/v1/keys/foo", null));
  }

  private static void assertNoLeader(FullHttpResponse response) {
    try {
      assertThat(response.status().code()).isEqualTo(500);
      assertThat(response.headers().get(HttpHeaderNames.LOCATION)).isNull();
      assertThat(response.content().toString(StandardCharsets.UTF_8))
          .isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\",\"cause\":\"no leader\"}\n");
    } finally {
      response.release();
    }
  }
}
