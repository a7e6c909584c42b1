package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UrlDecodingTest {

  private static String path(String s) {
    return UrlDecoding.decodePath(s, 0, s.length());
  }

  private static String form(String s) {
    return UrlDecoding.decodeFormComponent(s, 0, s.length());
  }

  /** What Netty hands over: one char per wire byte. */
  private static String wire(String utf8) {
    return new String(utf8.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  @Test
  void plainAsciiIsReturnedAsIs() {
    assertThat(path("/foo/bar")).isEqualTo("/foo/bar");
    assertThat(UrlDecoding.decodePath("xx/foo", 2, 6)).isEqualTo("/foo");
  }

  @Test
  void percentTwoFAcceptsAsASeparatorInPaths() {
    assertThat(path("a%2Fb")).isEqualTo("a/b");
    assertThat(path("a%2fb")).isEqualTo("a/b");
  }

  @Test
  void plusStaysPlusInAPathButIsASpaceInAForm() {
    assertThat(path("a+b")).isEqualTo("a+b");
    assertThat(form("a+b")).isEqualTo("a b");
    assertThat(form("a%2Bb")).isEqualTo("a+b");
  }

  @Test
  void escapedAndRawUtf8BothDecode() {
    assertThat(path("%C3%A9t%C3%A9")).isEqualTo("été");
    assertThat(path(wire("été"))).isEqualTo("été");
    assertThat(form(wire("h\u00e9llo") + "%20%F0%9F%98%80")).isEqualTo("h\u00e9llo \uD83D\uDE00");
  }

  @ParameterizedTest
  @ValueSource(strings = {"%", "%4", "a%zz", "%G0", "%%41"})
  void malformedEscapesAreInvalid(String s) {
    assertThat(path(s)).isNull();
    assertThat(form(s)).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "%FF", // never valid
      "%C3", // truncated
      "%E2%82", // truncated
      "%C0%AF", // overlong '/'
      "%E0%80%AF", // overlong
      "%ED%A0%80", // surrogate
      "%F4%90%80%80", // past U+10FFFF
      "%80", // lone continuation byte
      "%C3%28" // bad continuation
  })
  void bytesThatAreNotUtf8AreInvalid(String s) {
    assertThat(path(s)).isNull();
    assertThat(form("x" + s)).isNull();
  }

  @Test
  void rawLatin1BytesThatAreNotUtf8AreInvalid() {
    assertThat(path("caf\u00e9")).isNull(); // a lone 0xE9 byte on the wire
  }

  @Test
  void largestCodePointsAreAccepted() {
    assertThat(path("%F4%8F%BF%BF")).isEqualTo(new String(Character.toChars(0x10FFFF)));
    assertThat(path("%EF%BF%BD")).isEqualTo("\uFFFD");
  }
}
