package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestTargetTest {

  @Test
  void splitsPathAndQuery() {
    assertThat(RequestTarget.parse("/v1/keys/foo?value=bar&ttl=5"))
        .isEqualTo(new RequestTarget("/v1/keys/foo", "value=bar&ttl=5"));
  }

  @Test
  void noQuestionMarkMeansNoQuery() {
    RequestTarget target = RequestTarget.parse("/v1/keys/foo");
    assertThat(target.rawPath()).isEqualTo("/v1/keys/foo");
    assertThat(target.rawQuery()).isNull();
  }

  @Test
  void aTrailingQuestionMarkIsAnEmptyQuery() {
    assertThat(RequestTarget.parse("/v1/keys/foo?").rawQuery()).isEmpty();
  }

  @Test
  void thePathStaysEncoded() {
    assertThat(RequestTarget.parse("/v1/keys/a%2Fb?x=%3F").rawPath()).isEqualTo("/v1/keys/a%2Fb");
  }

  @Test
  void theFragmentIsDropped() {
    assertThat(RequestTarget.parse("/v1/keys/a?x=1#frag")).isEqualTo(new RequestTarget("/v1/keys/a", "x=1"));
    assertThat(RequestTarget.parse("/v1/keys/a#frag?x")).isEqualTo(new RequestTarget("/v1/keys/a", null));
  }

  @Test
  void absoluteFormKeepsOnlyPathAndQuery() {
    assertThat(RequestTarget.parse("http://127.0.0.1:4001/v1/keys/a?b=c"))
        .isEqualTo(new RequestTarget("/v1/keys/a", "b=c"));
    assertThat(RequestTarget.parse("http://127.0.0.1:4001")).isEqualTo(new RequestTarget("/", null));
    assertThat(RequestTarget.parse("http://host?x=1")).isEqualTo(new RequestTarget("/", "x=1"));
  }

  @Test
  void anythingElseRoutesToTheRoot() {
    assertThat(RequestTarget.parse("*").rawPath()).isEqualTo("/");
    assertThat(RequestTarget.parse("").rawPath()).isEqualTo("/");
  }
}
