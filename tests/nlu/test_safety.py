"""The deterministic safety net (bot/nlu/safety.py + data/safety_patterns.yml).

The key property: a real disclosure is never None, and a hard negative (figure of
speech, game talk, a question *about* a harm, news, a parent asking how to protect)
is None. Messages are written the way Vietnamese children (6-17) and parents type:
with and without diacritics, teencode, run-on stories, indirect phrasings.

Where several intents are defensible a set is accepted. Counsellors: add a case
here for every pattern you add to safety_patterns.yml.
"""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from bot.nlu import safety
from bot.nlu.normalize import fold
from bot.risk import DISCLOSURE_PRIORITY, level_of, rank

SH = "disclose_self_harm"
SX = "disclose_sexual_exploitation"
GR = "disclose_grooming"
AB = "disclose_abuse_offline"
CB = "disclose_cyberbullying"
SC = "disclose_scam"
DI = "express_distress"

# --------------------------------------------------------------------------- disclosures

SELF_HARM = [
    ("em không muốn sống nữa", SH),
    ("e ko muon song nua", SH),
    ("mk k mún sống nữa r", SH),
    ("mk ko mun song nua", SH),
    ("e hok mun song nua dau", SH),
    ("tao muốn chết", SH),
    ("e muon chet", SH),
    ("em mún chếtttt", SH),
    ("e mun die", SH),
    ("Mình chỉ muốn chết đi cho xong", SH),
    ("em chỉ muốn chết thôi", SH),
    ("em hay muốn chết lắm", SH),
    ("em đã muốn chết mấy lần rồi", SH),
    ("muốn chết quá đi mất", SH),
    ("em mệt mỏi quá, chỉ muốn chết", SH),
    ("em muốn chết đói cho xong", SH),
    ("chết quách cho xong", SH),
    ("thà chết còn hơn", SH),
    ("chắc tao chết đi thì hơn", SH),
    ("sống ko bằng chết", SH),
    ("em chán sống lắm rồi", SH),
    ("em không thiết sống nữa", SH),
    ("e k muon ton tai nua", SH),
    ("em không còn lý do gì để sống", SH),
    ("sống làm gì nữa khi chẳng ai cần mình", SH),
    ("cuộc sống này chẳng còn ý nghĩa gì, em muốn đi theo ông", SH),
    ("em định tự tử", SH),
    ("e dinh tu tu", SH),
    ("em muốn tự sát", SH),
    ("tu sat cho xong", SH),
    ("mình nghĩ đến chuyện tự tử mấy hôm nay", SH),
    ("em tự tử hụt một lần rồi", SH),
    ("e tu tu hut 1 lan roi", SH),
    ("em muốn kết thúc cuộc đời mình", SH),
    ("em viết thư tuyệt mệnh rồi", SH),
    ("em cắt tay rồi", SH),
    ("e lai rach tay r", SH),
    ("em hay lấy dao lam rạch tay mỗi khi buồn", SH),
    ("em rạch tay mấy lần rồi mà không ai biết", SH),
    ("em hay tự làm đau bản thân", SH),
    ("em hay cutting", SH),
    ("em vừa uống hết vỉ thuốc ngủ", SH),
    ("e uong thuoc chuot roi", SH),
    ("em tích thuốc ngủ mấy tuần nay rồi, định uống hết một lần", SH),
    ("em muốn nhảy lầu cho xong", SH),
    ("làm sao để chết nhanh", SH),
    ("uống bao nhiêu viên thuốc ngủ thì chết", SH),
    ("em đang đứng trên sân thượng, em muốn nhảy xuống", SH),
    ("e dag o tren cau, e mun nhay xuong", SH),
    ("em muốn biến mất mãi mãi", SH),
    ("e chi mun ngu mai mai", SH),
    ("em chỉ muốn ngủ một giấc không bao giờ dậy nữa", SH),
    ("mọi người sẽ vui hơn nếu không có em", SH),
    ("em chỉ là gánh nặng của bố mẹ", SH),
    ("em hay nghĩ về cái chết", SH),
    ("kms", SH),
    ("i want to die", SH),
    # run-on stories
    (
        "hôm nay ở trường bị cô mắng trước lớp rồi về nhà bố mẹ lại cãi nhau em thấy mệt mỏi lắm chẳng ai "
        "quan tâm em cả em nghĩ chắc em chết đi thì mọi người sẽ nhẹ nhõm hơn",
        SH,
    ),
    ("bố mẹ mắng em em muốn chết", SH),
    ("từ lúc chơi game với anh đó em muốn chết", SH),
    # an exception (figure of speech) does not mask a real disclosure in the same message
    ("cười chết mất nhưng mà em muốn chết thật", SH),
    # parents
    ("con tôi nói nó muốn chết", SH),
    ("con gái tôi tự rạch tay", SH),
    ("con tôi có ý định tự tử", SH),
    ("con tôi dạo này hay tự cắt tay", SH),
]

SEXUAL = [
    ("có người dọa tung ảnh nóng của em", SX),
    ("co nguoi doa tung anh cua e", SX),
    ("nó tung ảnh nóng của tớ rồi", SX),
    ("thằng đó bảo đăng ảnh nóng của em lên mạng", SX),
    ("anh ta bảo nếu em không gửi thêm ảnh thì sẽ đăng lên fb", SX),
    ("thằng đó bảo nếu ko chụp thêm thì nó tung clip lên group lớp", SX),
    ("hắn có video lúc em thay đồ và dọa gửi cho cả trường", SX),
    ("bạn trai cũ dọa phát tán clip nhạy cảm của em", SX),
    ("ny cũ của em dọa tung clip", SX),
    ("em gửi ảnh nhạy cảm cho ny rồi giờ chia tay nó dọa tung lên", SX),
    ("co thang tren fb doi e gui anh ngực ko thi no noi vs ca lop", SX),
    ("người ta đòi em gửi ảnh nude", SX),
    ("e bi ng la doi gui anh nong", SX),
    ("ng ta doi e gui hinh ko mac do", SX),
    ("người lạ xin ảnh ngực của em", SX),
    ("thằng đó đòi xem ngực em", SX),
    ("anh ấy bắt em cởi đồ khi call video", SX),
    ("anh ta bắt em gọi video rồi bắt cởi áo", SX),
    ("chú đó bắt em cho xem vùng kín qua camera", SX),
    ("có người rủ em show hàng trên live", SX),
    ("có ông chú trên mạng nhắn tin tục tĩu với em", SX),
    ("người lạ trên tiktok nhắn tin sex với em", SX),
    ("ông ấy gạ em quan hệ", SX),
    ("nó gửi cho em xem clip sex", SX),
    ("ổng gửi ảnh vùng kín cho em", SX),
    ("nó ghép mặt em vào ảnh khỏa thân", SX),
    ("có người dùng deepfake ghép mặt em", SX),
    ("he asked me for nudes", SX),
    (
        "hồi tháng trước em quen một anh trên insta anh ấy nói chuyện rất hay rồi xin ảnh em em gửi ảnh bình "
        "thường thôi nhưng sau đó anh ấy đòi ảnh không mặc áo em không gửi thì anh ấy dọa sẽ gửi hết tin nhắn "
        "cho bố mẹ em",
        SX,
    ),
    ("con tôi bị người lạ dọa tung ảnh", SX),
    ("con gái tôi bị kẻ xấu ép gửi hình nhạy cảm", SX),
    ("con gái tôi 13 tuổi bị một người đàn ông trên mạng dụ gửi ảnh nhạy cảm", SX),
    # several intents are defensible
    ("em lỡ gửi ảnh khỏa thân cho người lạ giờ nó đòi tiền", {SX, SC}),
    ("em bị tống tiền bằng ảnh nóng", {SX, SC}),
    ("ảnh của em bị phát tán lên mạng", {SX, CB}),
    ("em bị người ta quay lén lúc tắm", {SX, AB}),
]

GROOMING = [
    ("em 12 tuổi, người lạ hỏi địa chỉ nhà em rồi, nếu nó đến thì em phải làm gì", GR),
    ("có anh quen qua game hẹn gặp em ngoài đời", GR),
    ("co a quen tren fb ru e di gap", GR),
    ("bạn quen qua mạng rủ em đi gặp", GR),
    ("ng quen qua mang hen e ra quan net gap", GR),
    ("anh ấy quen em qua game rồi hẹn đi trà sữa", GR),
    ("b ơi cứu e, có người lạ quen trên game hẹn gặp e", GR),
    ("anh kia trên tiktok muốn gặp em, bảo đừng cho bố mẹ biết", GR),
    ("chú đó bảo đừng kể với bố mẹ", GR),
    ("anh ấy bảo đây là bí mật giữa hai đứa", GR),
    ("anh ấy bảo em đừng nói với ai chuyện tụi em nói chuyện", GR),
    ("chú hàng xóm hay cho em tiền và dặn không được nói với ai", GR),
    ("ông ấy bảo xóa tin nhắn đi để bố mẹ không biết", GR),
    ("a ấy bảo e xóa hết tin nhắn để ko ai bít", GR),
    ("anh trên mạng bảo chỉ có anh hiểu em hơn bố mẹ", GR),
    ("người lạ trên roblox cho em robux rồi hỏi nhà em ở đâu", GR),
    ("có người trong game tặng kim cương và bảo em làm bạn gái", GR),
    ("có người lạ nạp thẻ cho em rồi đòi gặp", GR),
    ("người lạ hỏi em học trường nào, nhà ở đâu", GR),
    ("người lạ hỏi bố mẹ em có nhà không", GR),
    ("người đó hỏi em có ở nhà một mình không, em quen trên zalo", GR),
    ("anh quen trên discord bảo chuyển qua telegram nhắn riêng cho bí mật", GR),
    ("anh ấy lớn hơn em 15 tuổi và nói yêu em", GR),
    ("bạn trên mạng bảo em là bạn gái của anh ấy, anh ấy 25 tuổi", GR),
    (
        "em 12 tuổi, có anh trên roblox hay cho robux, anh ấy bảo em là đặc biệt nhất, bảo đừng kể với ai, "
        "giờ anh ấy muốn gặp em ở công viên gần nhà",
        GR,
    ),
    ("con tôi quen một người trên mạng, hắn hẹn đón cháu ở cổng trường", GR),
    ("con trai tôi chơi game quen một người lạ, người đó cứ tặng quà và hỏi địa chỉ nhà", GR),
    ("con tôi có người lạ nhắn tin hẹn gặp", GR),
    ("quen trong game, anh ấy dọa giết em nếu em kể với bố mẹ", {GR, AB, CB}),
]

ABUSE = [
    ("bố em hay đánh em lắm", AB),
    ("bo e say ruou ve la danh e", AB),
    ("ba e nhậu say về đập phá rồi đánh mẹ con e", AB),
    ("bố e cứ uống rượu là lại đánh mẹ", AB),
    ("tối nào bố cũng say rồi về chửi mẹ con em, hôm qua bố ném cái ghế vào em, em sợ không dám về nhà", AB),
    ("em bị bố đánh bầm tím cả người", AB),
    ("hôm qua em bị mẹ lấy roi đánh", AB),
    ("e bi bo danh chay mau dau", AB),
    ("e bi ba danh bang that lung", AB),
    ("em bi me danh suot, lung toan vet bam", AB),
    ("cô giáo hay tát em trước lớp", AB),
    ("người yêu em đã đánh em", AB),
    ("mẹ em dọa giết em", AB),
    ("bố bảo sẽ đánh chết em", AB),
    ("nó bảo nếu không nghe lời thì đánh chết em", {AB, CB}),
    ("nhà em có bạo lực gia đình", AB),
    ("mẹ kế nhốt em trong nhà vệ sinh", AB),
    ("mẹ không cho em ăn cơm mấy ngày liền", AB),
    ("bố đuổi em ra khỏi nhà", AB),
    ("bố mẹ ngày nào cũng chửi em là đồ vô dụng", AB),
    ("chú em hay sờ vào vùng kín của em", AB),
    ("thầy giáo sờ ngực em", AB),
    ("dượng em hay sờ mó em khi mẹ đi làm", AB),
    ("bố dượng hay vào phòng em lúc nửa đêm", AB),
    ("ông hàng xóm bắt em nằm lên giường rồi sờ soạng", AB),
    ("chú hàng xóm sờ vùng kín của em, làm sao để nói với mẹ", AB),
    ("con tôi bị cô bảo mẫu đánh", AB),
    ("tôi phát hiện con tôi bị bạn cùng lớp đánh và quay clip", {AB, CB}),
    ("e bị anh họ ép cởi quần", {AB, SX}),
    ("em bị bạn cùng lớp đánh hội đồng", {AB, CB}),
    ("em bị bọn lớp trên chặn đường đánh", {AB, CB}),
    ("em bị đánh trong lớp", {AB, CB}),
]

CYBERBULLYING = [
    ("tụi nó chụp lúc em đang ngủ trong lớp rồi đăng lên nhóm", CB),
    ("bọn cùng lớp quay clip lúc con tôi té cầu thang rồi up lên face cười nhạo", CB),
    ("em bị bắt nạt trên mạng", CB),
    ("e bi bat nat o truong", CB),
    ("em bị bạn bè chửi trên facebook", CB),
    ("e bi tui no chui la do beo", CB),
    ("ngày nào tụi nó cũng inbox chửi em ngu", CB),
    ("e bi ca lop tay chay", CB),
    ("tụi nó lập group để nói xấu em", CB),
    ("bạn trong lớp lập page anti em", CB),
    ("tui bị anti trên mạng", CB),
    ("em bị body shaming trên tiktok", CB),
    ("mấy đứa trong lớp comment chê em béo", CB),
    ("mấy đứa trong group lớp toàn gọi em là con heo", CB),
    ("nó đuổi em ra khỏi nhóm chat của lớp", CB),
    ("bạn cùng lớp tung tin đồn là em ăn cắp", CB),
    ("có đứa lập nick giả mạo em rồi đi chửi người khác", CB),
    ("có người tạo tài khoản fake mạo danh em", CB),
    ("bọn nó đăng ảnh xấu của em lên nhóm lớp", CB),
    ("tụi nó chụp ảnh dìm em rồi đăng lên confession trường", CB),
    ("họ quay clip lúc em khóc rồi đăng lên tiktok", CB),
    (
        "từ đầu năm tụi con gái trong lớp không chơi với em nữa, tụi nó lập nhóm chat riêng để chửi em, còn "
        "chụp lén em rồi chế ảnh đăng lên",
        CB,
    ),
    ("con tôi bị các bạn trêu chọc và cô lập", CB),
    ("con tôi bị bạn bè bắt nạt trên zalo", CB),
    ("con tôi bị bully ở trường", CB),
    ("có người nhắn tin đe dọa sẽ đánh em", {CB, AB}),
]

SCAM = [
    ("em bị hack facebook rồi", SC),
    ("acc ff của em bị hack mất rồi", SC),
    ("tk roblox cua e bi chiem mat r", SC),
    ("nick lq của mình bị người ta đổi mật khẩu", SC),
    ("có người hack zalo của em rồi nhắn tin vay tiền bạn bè", SC),
    ("bạn ơi em bị lừa mất acc rồi", SC),
    ("e bi lua mat 500k khi mua kim cuong", SC),
    ("e bi scam r", SC),
    ("em bị lừa đảo trên facebook", SC),
    ("em chuyển khoản mua skin mà người ta chặn em luôn", SC),
    ("em mua acc trên mạng, chuyển tiền xong nó block luôn", SC),
    ("em đưa mã OTP cho người ta rồi bị mất tài khoản", SC),
    ("có người nhắn em trúng thưởng iphone bảo nạp phí", SC),
    ("em bấm vào link lạ giờ không vào được facebook nữa", SC),
    ("mất hết kim cương trong game vì đưa pass cho bạn", SC),
    (
        "em thấy trên tiktok có người cho kim cương miễn phí, em bấm vào link rồi đăng nhập, xong acc ff mất "
        "luôn, em sợ mẹ biết",
        SC,
    ),
    ("có người dọa nếu không chuyển tiền sẽ công khai tin nhắn của em", SC),
    ("acc ff bị hack rồi, nó đòi tiền chuộc", SC),
    ("con tôi bị lừa nạp thẻ điện thoại", SC),
    ("con trai tôi bị lừa mất 2 triệu khi mua đồ trong game", SC),
]

DISTRESS = [
    ("em buồn quá", DI),
    ("huhu em buồn lắm", DI),
    ("e co don lam", DI),
    ("em thấy cô đơn ở trường mới", DI),
    ("không ai hiểu em cả", DI),
    ("ko ai quan tâm e", DI),
    ("ko ai thương e het", DI),
    ("em khóc cả đêm", DI),
    ("dạo này em áp lực học hành quá", DI),
    ("em stress quá", DI),
    ("em thấy mệt mỏi với mọi thứ", DI),
    ("e met moi qua", DI),
    ("mình thấy trống rỗng lắm", DI),
    ("em sợ lắm", DI),
    ("bố mẹ cãi nhau suốt em sợ lắm", DI),
    ("tui chán đời quá", DI),
    ("e tram cam qua", DI),
    ("dạo này em hay mất ngủ và lo âu", DI),
    ("em muốn bỏ nhà đi", DI),
    ("mk thấy bản thân vô dụng quá", DI),
    ("em thấy mình thật vô dụng", DI),
    ("em thấy mình là gánh nặng", {DI, SH}),
    ("em hay bị ám ảnh về cái chết", {DI, SH}),
    ("con tôi dạo này hay khóc một mình trong phòng", DI),
]

DISCLOSURES = SELF_HARM + SEXUAL + GROOMING + ABUSE + CYBERBULLYING + SCAM + DISTRESS

# --------------------------------------------------------------------------- hard negatives

FIGURES_OF_SPEECH = [
    "cười chết mất",
    "nóng muốn chết",
    "game khó chết đi được",
    "giết thời gian",
    "em giết thời gian bằng cách chơi game",
    "chết cười với thằng bạn",
    "mẹ biết thì chết",
    "ba mà biết em điểm kém là chết",
    "thầy bảo ai không làm bài thì chết với thầy",
    "hôm nay nóng chết đi được",
    "đói muốn chết",
    "buồn cười chết mất",
    "mệt chết đi được",
    "mệt muốn chết luôn á",
    "bài này khó chết",
    "bài tập về nhà khó chết đi được",
    "trời ơi đẹp chết mất",
    "chết rồi, em quên làm bài tập",
    "chết thôi, mai kiểm tra mà chưa học gì",
    "chết tiệt, mất wifi rồi",
    "ngon muốn chết",
    "mẹ nấu ăn ngon chết đi được",
    "lạnh chết đi được",
    "thi xong rồi mừng muốn chết",
    "cười muốn chết với clip này",
    "em muốn chết mê chết mệt anh ấy",
    "hồi hộp muốn chết",
    "no quá chết mất",
    "hay quá chết mất",
    "điện thoại hết pin chết máy rồi",
    "con mèo nhà em chết rồi",
]

GAME_TALK = [
    "giết 20 mạng trong ff",
    "trong ff em giết 20 mạng",
    "bị bắn chết trong pubg",
    "em bắn chết 5 thằng trong pubg",
    "tối qua chơi liên quân bị gank chết hoài",
    "em giết được con boss rồi",
    "đánh boss mãi không chết",
    "trong minecraft em bị creeper nổ chết",
    "chơi minecraft bị zombie cắn chết hoài",
    "con boss đánh chết em hoài",
    "làm sao để chết trong game ít hơn",
    "hack map liên quân có bị khóa acc không",
    "em thích phim kinh dị có cảnh giết người",
]

QUESTIONS_ABOUT_A_HARM = [
    "em 8 tuoi, neu nguoi la hoi dia chi nha thi em nen lam gi",
    "chào bot, nếu người lạ xin ảnh thì mình làm sao",
    "làm sao để phòng tránh bị dụ dỗ trên mạng?",
    "dấu hiệu trầm cảm là gì",
    "nếu bị lừa thì phải làm gì",
    "nếu có người lạ đòi ảnh nóng thì em nên làm gì",
    "em đang làm bài thuyết trình về bắt nạt học đường",
    "mình muốn tìm hiểu về lừa đảo qua mạng cho bài tập",
    "cô giáo bảo cả lớp làm poster về phòng chống xâm hại",
    "xâm hại tình dục trẻ em là gì ạ",
    "thế nào là grooming",
    "sextortion là gì",
    "làm sao nhận biết kẻ lừa đảo trên mạng",
    "cách bảo vệ tài khoản facebook khỏi bị hack",
    "bạn ơi cho mình hỏi cách chặn người lạ trên messenger",
    "bạn ơi cho mình hỏi cách tạo mật khẩu",
    "em muốn học cách đặt mật khẩu mạnh",
    "làm sao để tài khoản của em không bị hack",
    "em muốn tìm hiểu cách cài đặt quyền riêng tư trên facebook",
    "số tổng đài bảo vệ trẻ em là bao nhiêu",
    "đừng tin mấy link trúng thưởng nha mọi người",
]

NEWS_AND_STORIES = [
    "xem thời sự thấy vụ lừa đảo qua mạng nhiều quá",
    "báo đăng vụ học sinh bị đánh hội đồng",
    "trong phim nhân vật chính tự tử",
    "em đọc truyện trinh thám về vụ lừa đảo",
]

PARENTS_ASKING = [
    "có nên cho con 8 tuổi dùng tiktok không",
    "con tôi 10 tuổi có nên dùng facebook không",
    "làm thế nào để nói chuyện với con về xâm hại tình dục",
    "nên nói gì với con về ảnh nhạy cảm",
    "tôi nên nói gì với con về người lạ trên mạng",
    "dấu hiệu con bị bắt nạt ở trường là gì",
    "cách nhận biết dấu hiệu trẻ bị xâm hại",
    "làm sao để biết con mình có bị dụ dỗ trên mạng không",
    "làm sao để bảo vệ con khỏi người lạ trên mạng",
    "làm thế nào để con tôi không bị lừa khi chơi game",
    "làm sao để con không bị bắt nạt trên mạng",
    "làm sao để con không bị dụ dỗ",
    "làm sao để ảnh của con không bị phát tán",
    "phụ huynh nên làm gì khi con nghiện game",
]

EVERYDAY = [
    "quay lại lúc tập nhảy rồi đăng lên cho vui",
    "mình hay chụp lúc mèo ngủ rồi đăng lên insta",
    # words that fold like harm words: đánh đàn, đánh giá, muỗi đốt, hack não, nóng tính, mong, tâm lý ...
    "em đánh đàn piano",
    "em đánh răng rồi đi ngủ",
    "bố em đánh cầu lông rất giỏi",
    "bố em đánh bóng đôi giày",
    "em bị đánh giá thấp",
    "em bị muỗi đốt",
    "em bị ong vò vẽ đốt",
    "em bị hack não bởi bài hát này",
    "mẹ dặn đừng cho ai biết mật khẩu",
    "mẹ dặn không được cho người lạ biết địa chỉ nhà",
    "cô giáo dặn đừng nói chuyện với người lạ trên mạng",
    "mẹ không cho em ăn vặt nhiều",
    "bố mẹ em không cho em chơi game",
    "bố em uống rượu xong đi ngủ",
    "anh trai em nóng tính lắm",
    "anh ấy mong em học tốt",
    "anh ấy tâm lý lắm",
    "anh Ngọc lớp bên hay giúp em học bài",
    "em thích xem video tâm sự của chị ấy",
    "phim tâm lý này hay lắm",
    "em cảm thấy nóng trong người",
    "cam on ban nhieu",
    "em có người yêu rồi, anh ấy 16 tuổi",
    "tạm biệt nha, mai em nói chuyện tiếp",
    "chào bạn, mình là học sinh lớp 7",
    "cảm ơn bạn nhiều nha",
    "em bị cảm rồi",
    "em bị điểm kém môn toán",
    "chụp ảnh thẻ cần mặc áo gì",
    "em bị mẹ tịch thu điện thoại",
    "bạn ơi game nào vui không",
    "crush em có người yêu rồi",
]

HARD_NEGATIVES = (
    FIGURES_OF_SPEECH + GAME_TALK + QUESTIONS_ABOUT_A_HARM + NEWS_AND_STORIES + PARENTS_ASKING + EVERYDAY
)


def _expected(e):
    return e if isinstance(e, set) else {e}


# --------------------------------------------------------------------------- the case tables


def test_case_tables_are_big_and_cover_every_disclosure_intent():
    assert len(DISCLOSURES) + len(HARD_NEGATIVES) >= 180
    assert len(HARD_NEGATIVES) >= 60
    covered = set().union(*(_expected(e) for _, e in DISCLOSURES))
    assert covered == set(DISCLOSURE_PRIORITY)
    texts = [t for t, _ in DISCLOSURES] + HARD_NEGATIVES
    dupes = {t for t in texts if texts.count(t) > 1}
    assert not dupes, dupes


@pytest.mark.parametrize("text, expected", DISCLOSURES, ids=[t[:60] for t, _ in DISCLOSURES])
def test_disclosure_is_detected(text, expected):
    detection = safety.detect(text)
    assert detection is not None, f"missed disclosure: {text!r} (folded: {safety._prepare(text)!r})"
    assert detection.intent in _expected(expected), (text, detection)
    assert detection.group  # the counsellor-readable comment of the group that matched


@pytest.mark.parametrize("text", HARD_NEGATIVES, ids=[t[:60] for t in HARD_NEGATIVES])
def test_hard_negative_is_not_a_disclosure(text):
    assert safety.detect(text) is None, f"false alarm on {text!r}: {safety.detect(text)}"


@pytest.mark.parametrize(
    "marked, plain",
    [
        ("Em không muốn sống nữa", "e ko mun song nua"),
        ("Có người dọa tung ảnh nóng của em", "co ng doa tung anh nong cua e"),
        ("Em bị bạn bè bắt nạt trên Facebook", "e bi ban be bat nat tren fb"),
        ("Tài khoản Free Fire của em bị hack", "acc ff cua e bi hack"),
        ("Bố em say rượu về là đánh em", "bo e say ruou ve la danh e"),
    ],
)
def test_with_and_without_diacritics_detect_the_same_intent(marked, plain):
    a, b = safety.detect(marked), safety.detect(plain)
    assert a is not None and b is not None
    assert a.intent == b.intent


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00",
        "😭😭😭",
        "<script>alert(1)</script>",
        "chết " * 20000,
        "a" * 100_000,
        "\u202eem bị đánh",
    ],
    ids=["empty", "blank", "nul", "emoji", "html", "long-chet", "100k", "rtl"],
)
def test_odd_input_never_crashes(text):
    safety.detect(text)
    safety.has_risk_cue(text)
    safety.decide(text, "nlu_fallback", 0.1)


def test_none_text_is_tolerated():
    assert safety.detect(None) is None  # type: ignore[arg-type]
    assert safety.decide(None, "greet") is None  # type: ignore[arg-type]


# --------------------------------------------------------------------------- decide


@pytest.mark.parametrize(
    "text, classifier",
    [
        ("em bị lừa mất acc rồi", "disclose_self_harm"),  # scam (medium) never lowers imminent
        ("em bị hack facebook rồi", "disclose_cyberbullying"),  # same level: keep the classifier's
        ("em buồn quá", "disclose_scam"),
        ("có người dọa tung ảnh nóng của em", "disclose_sexual_exploitation"),  # already right
        ("em không muốn sống nữa", "disclose_self_harm"),
        ("có anh quen qua game hẹn gặp em ngoài đời", "disclose_abuse_offline"),  # both high
    ],
)
def test_decide_never_lowers_or_repeats_the_classifier(text, classifier):
    assert safety.decide(text, classifier, 0.9) is None


@pytest.mark.parametrize("classifier", ["greet", "ask_tip", "out_of_scope", "parent_guide", "thank", None])
@pytest.mark.parametrize(
    "text, forced",
    [
        ("em không muốn sống nữa", SH),
        ("e bi ng la doi gui anh nong", SX),
        ("có anh quen qua game hẹn gặp em ngoài đời", GR),
        ("bố em hay đánh em lắm", AB),
        ("e bi ca lop tay chay", CB),
        ("em bị hack facebook rồi", SC),
        ("không ai hiểu em cả", DI),
    ],
)
def test_decide_forces_a_disclosure_the_classifier_missed(text, forced, classifier):
    assert safety.decide(text, classifier, 0.99) == forced


def test_decide_raises_to_a_higher_disclosure():
    assert safety.decide("em chỉ muốn chết thôi", "express_distress", 0.8) == SH
    assert safety.decide("có người dọa tung ảnh nóng của em", "disclose_cyberbullying", 0.8) == SX


def test_exception_does_not_mask_a_real_disclosure_in_the_same_message():
    text = "cười chết mất nhưng mà em muốn chết thật"
    assert safety.detect("cười chết mất") is None
    assert safety.detect(text).intent == SH
    assert safety.decide(text, "greet", 0.9) == SH
    assert safety.decide(text, "nlu_fallback", 0.2) == SH


@pytest.mark.parametrize("text", ["em sợ lắm", "cứu em với", "có người dọa em", "em bị gì ấy, khó nói lắm"])
def test_fallback_with_a_risk_cue_errs_to_distress(text):
    assert safety.has_risk_cue(text)
    assert safety.decide(text, "nlu_fallback", 0.3) == "express_distress"


@pytest.mark.parametrize(
    "text", ["ờ thì cũng được", "hôm nay trời đẹp ghê", "nóng muốn chết", "cười chết mất", "asdfgh"]
)
def test_fallback_without_a_cue_keeps_the_classifier(text):
    assert not safety.has_risk_cue(text)
    assert safety.decide(text, "nlu_fallback", 0.3) is None


def test_a_risk_cue_alone_does_not_override_a_confident_intent():
    assert safety.detect("có người dọa em") is None
    assert safety.decide("có người dọa em", "greet", 0.9) is None


@pytest.mark.parametrize("text, expected", DISCLOSURES, ids=[t[:60] for t, _ in DISCLOSURES])
def test_every_disclosure_overrides_a_chitchat_intent(text, expected):
    # A disclosure is never answered with a generic reply (SPEC): whatever the model said.
    assert safety.decide(text, "out_of_scope", 0.95) in _expected(expected)
    forced = safety.decide(text, "nlu_fallback", 0.1)
    assert forced in _expected(expected) and rank(level_of(forced)) > rank(level_of("nlu_fallback"))


# --------------------------------------------------------------------------- the patterns file


def _load():
    return yaml.safe_load(safety.PATTERNS_PATH.read_text(encoding="utf-8"))


def _all_groups(data):
    for intent, groups in data["intents"].items():
        for g in groups:
            yield f"intents.{intent}", g
    for section in ("exceptions", "asking_about", "hypothetical", "first_person", "risk_cue"):
        for g in data.get(section) or []:
            yield section, g


def test_patterns_file_has_every_section_and_only_known_intents():
    data = _load()
    assert set(data["intents"]) <= set(DISCLOSURE_PRIORITY)
    assert set(data["intents"]) == set(DISCLOSURE_PRIORITY)  # every disclosure has a safety net
    for section in ("exceptions", "asking_about", "hypothetical", "first_person", "risk_cue"):
        assert data.get(section), section


def test_every_group_has_a_comment():
    for where, group in _all_groups(_load()):
        assert isinstance(group.get("comment"), str) and group["comment"].strip(), (
            f"{where}: group without comment"
        )
        assert set(group) <= {"comment", "patterns", "marked"}, f"{where}: unknown keys {set(group)}"
        assert group.get("patterns") or group.get("marked"), f"{where}: {group['comment']!r} has no pattern"


def test_every_pattern_compiles():
    count = 0
    for where, group in _all_groups(_load()):
        for pattern in (group.get("patterns") or []) + (group.get("marked") or []):
            assert isinstance(pattern, str), (where, pattern)
            try:
                re.compile(pattern)
            except re.error as exc:  # pragma: no cover - the message is the point
                pytest.fail(f"{where} / {group['comment']!r}: {pattern!r} does not compile: {exc}")
            count += 1
    assert count > 100
    assert safety._rules()  # and the module loads them


def test_folded_patterns_have_no_diacritics():
    # `patterns` are matched against the folded text: a word with diacritics there never matches.
    # (`marked` lists are matched against the text with diacritics and may have them.)
    for where, group in _all_groups(_load()):
        for pattern in group.get("patterns") or []:
            assert fold(pattern) == pattern, f"{where} / {group['comment']!r}: diacritics in {pattern!r}"
            assert pattern == pattern.lower(), f"{where}: upper case in {pattern!r}"


def test_no_pattern_matches_the_empty_message():
    data = _load()
    for where, group in _all_groups(data):
        if where in ("asking_about", "hypothetical"):
            continue
        for pattern in group.get("patterns") or []:
            assert not re.search(pattern, "  "), f"{where}: {pattern!r} matches an empty message"


@pytest.fixture
def patterns_copy(tmp_path, monkeypatch):
    copy = tmp_path / "safety_patterns.yml"
    shutil.copyfile(safety.PATTERNS_PATH, copy)
    safety._rules.cache_clear()
    monkeypatch.setattr(safety, "PATTERNS_PATH", copy)
    yield copy
    safety._rules.cache_clear()


def test_fingerprint_changes_when_the_patterns_change(patterns_copy):
    before = safety.patterns_fingerprint()
    assert before == safety.patterns_fingerprint()  # stable
    assert len(before) == 64
    patterns_copy.write_text(
        patterns_copy.read_text(encoding="utf-8") + "\n# a counsellor's note\n", encoding="utf-8"
    )
    assert safety.patterns_fingerprint() != before


def test_an_added_pattern_is_picked_up_after_a_reload(patterns_copy):
    word = "xyzqwplugh"  # no doubled letter: the normaliser squeezes those
    assert safety.detect(f"em bi {word}") is None
    data = yaml.safe_load(patterns_copy.read_text(encoding="utf-8"))
    data["intents"][CB].append({"comment": "test-only group", "patterns": [rf"\b{word}\b"]})
    patterns_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    safety._rules.cache_clear()
    detection = safety.detect(f"em bi {word}")
    assert detection is not None and detection.intent == CB and detection.group == "test-only group"


def test_an_unknown_intent_in_the_patterns_is_refused(patterns_copy):
    data = yaml.safe_load(patterns_copy.read_text(encoding="utf-8"))
    data["intents"]["disclose_typo"] = [{"comment": "x", "patterns": ["x"]}]
    patterns_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    safety._rules.cache_clear()
    with pytest.raises(ValueError, match="disclose_typo"):
        safety.detect("hello")
