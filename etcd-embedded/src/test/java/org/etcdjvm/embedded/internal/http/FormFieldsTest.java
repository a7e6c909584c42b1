package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FormFieldsTest {

  private static FormFields read(String contentType, String body, String query) {
    return read(contentType, body, query, 1_000);
  }

  private static FormFields read(String contentType, String body, String query, int maxFields) {
    ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.ISO_8859_1);
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/keys/x", content);
    if (contentType != null) {
      request.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    try {
      return FormFields.of(request, request.content(), query, true, maxFields);
    } finally {
      request.release();
    }
  }

  @Test
  void bodyValuesWinOverQueryValues() {
    FormFields form = read("application/x-www-form-urlencoded", "value=body", "value=query&ttl=5");
    assertThat(form.get("value")).isEqualTo("body");
    assertThat(form.get("ttl")).isEqualTo("5");
  }

  @Test
  void theFirstOccurrenceWins() {
    assertThat(FormFields.parse("value=a&value=b").get("value")).isEqualTo("a");
  }

  @Test
  void contentTypeParametersAndCaseAreAllowed() {
    assertThat(read("Application/X-WWW-Form-URLEncoded; charset=utf-8", "value=x", null).get("value")).isEqualTo("x");
    assertThat(read("application/x-www-form-urlencoded; param=value", "value=x", null).get("value")).isEqualTo("x");
  }

  @Test
  void aBodyOfAnotherContentTypeIsIgnored() {
    assertThat(read("text/plain", "value=x", null).has("value")).isFalse();
    assertThat(read(null, "value=x", null).has("value")).isFalse();
    assertThat(read("multipart/form-data; boundary=x", "value=x", "ttl=3").get("ttl")).isEqualTo("3");
  }

  @Test
  void theBodyIsNotReadWhenTheMethodTakesNone() {
    ByteBuf content = Unpooled.copiedBuffer("value=x", StandardCharsets.US_ASCII);
    FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.DELETE, "/", content);
    request.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-www-form-urlencoded");
    try {
      assertThat(FormFields.of(request, request.content(), null, false, 1_000).has("value")).isFalse();
    } finally {
      request.release();
    }
  }

  @Test
  void aNameWithoutEqualsSignIsPresentAndEmpty() {
    FormFields form = FormFields.parse("prevValue&value=");
    assertThat(form.has("prevValue")).isTrue();
    assertThat(form.get("prevValue")).isEmpty();
    assertThat(form.get("value")).isEmpty();
  }

  @Test
  void semicolonIsAnOrdinaryCharacter() {
    assertThat(FormFields.parse("value=a;b&ttl=1").get("value")).isEqualTo("a;b");
  }

  @Test
  void plusAndEscapesDecode() {
    assertThat(FormFields.parse("value=Hello+world%21").get("value")).isEqualTo("Hello world!");
    assertThat(FormFields.parse("pre%76Value=1").get("prevValue")).isEqualTo("1");
  }

  @Test
  void anUndecodableValueIsPresentButInvalid() {
    FormFields form = FormFields.parse("value=%FF&ttl=%zz");
    assertThat(form.has("value")).isTrue();
    assertThat(form.isInvalid("value")).isTrue();
    assertThat(form.get("value")).isNull();
    assertThat(form.isInvalid("ttl")).isTrue();
    assertThat(form.isInvalid("other")).isFalse();
  }

  @Test
  void aValueThatLooksLikeTheInvalidMarkerIsStillValid() {
    FormFields form = FormFields.parse("value=%3Cinvalid%3E");
    assertThat(form.isInvalid("value")).isFalse();
    assertThat(form.get("value")).isEqualTo("<invalid>");
  }

  @Test
  void aPairWithAnUndecodableNameIsDropped() {
    FormFields form = FormFields.parse("%FF=1&value=ok");
    assertThat(form.get("value")).isEqualTo("ok");
  }

  @Test
  void emptyPairsAreSkipped() {
    FormFields form = FormFields.parse("&&value=1&");
    assertThat(form.get("value")).isEqualTo("1");
    assertThat(FormFields.parse("").has("value")).isFalse();
  }

  @Test
  void rawUtf8InABodyDecodes() {
    String wire = new String("value=h\u00e9".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    assertThat(read("application/x-www-form-urlencoded", wire, null).get("value")).isEqualTo("h\u00e9");
  }

  @Test
  void parsingIsLinearInTheInputEvenWithoutAnyEqualsSign() {
    // 4 Mi pairs and not one '=': searching the rest of the input for '=' at every pair took
    // minutes here (1.9 s at 512 KiB, 50 s at 2 MiB). Names that do not decode are dropped, so the
    // form itself stays empty and the test needs no memory for it.
    String body = "%&".repeat(4 * 1024 * 1024);
    FormFields form = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> FormFields.parse(body));
    assertThat(form.has("value")).isFalse();
    assertThat(form.tooManyFields()).isFalse();
  }

  @Test
  void pastTheFieldLimitParsingStopsAndSaysSo() {
    String pairs = "a&".repeat(1024 * 1024);
    FormFields capped = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> read("application/x-www-form-urlencoded", "value=x&" + pairs, null, 1_000));
    assertThat(capped.tooManyFields()).isTrue();
    assertThat(capped.get("value")).isEqualTo("x");
  }

  @Test
  void theLimitCountsBodyAndQueryTogether() {
    assertThat(read("application/x-www-form-urlencoded", "a=1&b=2", "c=3", 3).tooManyFields()).isFalse();
    FormFields over = read("application/x-www-form-urlencoded", "a=1&b=2", "c=3&d=4", 3);
    assertThat(over.tooManyFields()).isTrue();
    assertThat(over.get("c")).isEqualTo("3");
    assertThat(over.has("d")).isFalse();
    // Empty pairs are not fields; pairs with an undecodable name are.
    assertThat(FormFields.parse("&&a=1&&&b=2&&", 2).tooManyFields()).isFalse();
    assertThat(FormFields.parse("%FF=1&a=1&b=2", 2).tooManyFields()).isTrue();
  }
}
