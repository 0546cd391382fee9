"""A photo a child sends is often evidence: it gets thanks and guidance, not a warning (issue 18)."""

from bot.telegram import texts


def test_a_photo_gets_thanks_and_guidance_about_evidence() -> None:
    reply = texts.MEDIA_PRIVACY
    assert reply.startswith("Cảm ơn bạn")
    assert "bằng chứng" in reply and "bạn làm đúng rồi" in reply
    assert "111" in reply and "bạn không có lỗi" in reply
    # never save or forward the intimate image itself; Take It Down only where platforms take part
    assert "đừng gửi ảnh đó cho ai nữa" in reply and "có tham gia" in reply
