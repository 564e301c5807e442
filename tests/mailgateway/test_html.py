from mailgateway.html import html_to_text, sanitize_html


def test_script_style_and_event_handlers_are_removed():
    html = (
        '<p onclick="x()" style="color:red">Hi</p><script>alert(1)</script><style>p{}</style>'
        '<img src="cid:a" onerror="x()">'
    )
    assert sanitize_html(html) == '<p>Hi</p><img src="cid:a">'


def test_iframes_objects_and_forms_are_removed():
    html = '<iframe src="https://evil.example"></iframe><object data="x.swf"></object><form><input name="pw"></form>ok'
    assert sanitize_html(html) == "ok"


def test_remote_images_are_not_loaded():
    html = '<img src="https://tracker.example/open.gif" alt="logo"><img src="http://x.example/a.png">'
    assert "tracker" not in sanitize_html(html) and "x.example" not in sanitize_html(html)


def test_embedded_images_keep_their_source():
    html = '<img src="cid:logo@plein"><img src="data:image/png;base64,iVBORw0KGgo=">'
    assert sanitize_html(html) == html


def test_links_get_rel_and_lose_javascript_urls():
    cleaned = sanitize_html('<a href="https://plein.example">ok</a> <a href="javascript:alert(1)">bad</a>')
    assert '<a href="https://plein.example" rel="noopener noreferrer nofollow">ok</a>' in cleaned
    assert "javascript" not in cleaned


def test_ordinary_formatting_survives():
    html = (
        "<h2>Agenda</h2><ul><li><b>one</b></li></ul><blockquote>q</blockquote>"
        "<table><tbody><tr><td>c</td></tr></tbody></table>"
    )
    assert sanitize_html(html) == html


def test_html_to_text_keeps_link_text_and_ignores_images():
    text = html_to_text('<p>See <a href="https://plein.example/t/1">the post</a><img src="cid:x" alt="pic"></p>')
    assert text == "See [the post](https://plein.example/t/1)"


def test_html_to_text_does_not_wrap_long_lines():
    assert html_to_text("<p>" + "word " * 100 + "</p>").count("\n") == 0


def test_gmail_quote_becomes_quoted_lines():
    html = '<div>Yes!</div><div class="gmail_quote">On Mon, Ann wrote:<blockquote>Coming?</blockquote></div>'
    text = html_to_text(html)
    assert text.splitlines()[0] == "Yes!"
    assert all(line.startswith(">") for line in text.splitlines()[1:] if line)


def test_html_to_text_survives_garbage():
    for html in ["", "<<<>>>", "</div></div><td><tr>&#xZZZZ;&bogus;", "<p>" * 5000, "\x00\ufffe"]:
        assert isinstance(html_to_text(html), str)


def test_a_quote_container_that_holds_the_whole_mail_is_the_mails_text():
    html = '<div><div name="messageReplySection"><p>This is the <b>body</b>.</p></div></div>'
    assert html_to_text(html) == "This is the **body**."


def test_a_quote_container_below_the_reply_is_a_quote():
    html = '<p>Yes.</p><div class="gmail_quote"><p>Lunch?</p></div>'
    assert html_to_text(html) == "Yes.\n\n> Lunch?"
