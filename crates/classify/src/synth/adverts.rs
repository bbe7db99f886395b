//! Plain adverts, training only. The public sets' adverts are Chinese web spam and 2000s
//! English premium-rate spam; today's selling clauses ("new customers get…", "double points",
//! "首单立减") are rare in them, so a tail cut from a notice read as unknown. These widen
//! the vocabulary of selling; the disguised-notice figure is still measured on tails that
//! appear nowhere here.

use super::{Row, Slots, expand};

const ZH: &[&str] = &[
    "【{shop}】会员专享：全场商品{off}，仅限{when}，点击 {link} 抢购，回T退订",
    "{shop}新用户注册即送{gift}，首次下单再减{amt}元",
    "{when}限时秒杀开启！爆款低至{price}元，手慢无",
    "积分兑换季：{num}积分即可兑换{gift}，快来领取",
    "老客户回馈：充值{amt}元送{gift}，名额有限",
    "邀请好友注册，双方各得{amt}元现金红包，上不封顶",
    "【{shop}】{when}全场包邮，满{amt}元再享{off}",
    "新品首发！预订立减{amt}元，前{num}名加赠{gift}",
    "办理会员年卡立享{off}，还可免费领取{gift}",
    "{shop}周年庆，购物满{amt}元抽奖，最高赢取{gift}",
    "{when}到店消费即送{gift}一份，欢迎光临{shop}",
    "开通自动续费首月仅需{price}元，随时可取消",
    "下载{shop}APP，新人专享{gift}，限时领取",
    "本周特惠：第二份半价，会员再享积分翻倍",
    "直播间专属福利，{when}晚8点不见不散，下单返现{amt}元",
    "{shop}清仓大甩卖，全场{off}起，售完即止",
    "宽带升级提速不加价，现在办理再送{gift}，回复1办理",
    "信用卡新户首刷送{gift}，境外消费返现{pct}",
    "理财新客专享，7天年化收益{pct}，起投{amt}元",
    "亲，您关注的商品降价啦，现价仅{price}元，库存告急",
];

const ZH_SLOTS: Slots = Slots {
    names: &[
        "shop", "off", "when", "link", "gift", "amt", "price", "num", "pct",
    ],
    values: &[
        &["美好生活馆", "小象超市", "乐购商城", "云间茶舍", "星河影城"],
        &["8折", "5折", "7.5折", "满减", "第二件半价"],
        &["本周末", "今天", "双12", "年货节期间", "本月"],
        &["t.cn/R9kQ", "s.cn/x7", "url.cn/5Tz"],
        &[
            "价值99元礼包",
            "保温杯一个",
            "50元优惠券",
            "电影票两张",
            "会员月卡",
        ],
        &["10", "30", "50", "100", "200"],
        &["9.9", "19", "49", "99"],
        &["100", "500", "1000"],
        &["5%", "3.5%", "10%"],
    ],
};

const EN: &[&str] = &[
    "{shop}: members get {off} everything this {when}. Shop now at {link}. Reply STOP to opt out",
    "New customers: sign up today and get {gift} free with your first order",
    "Flash sale at {shop}! {off} selected lines, {when} only",
    "Collect 2x reward points whenever you shop with your {shop} card this {when}",
    "Refer a friend to {shop} and you'll both get {amt} credit",
    "{shop}: free delivery all {when}, plus {off} when you spend {amt}",
    "Our new range is here! Pre-order now and save {amt}",
    "Join {shop} Rewards today and get {gift} on us",
    "Last chance: {off} ends this {when}, don't miss out",
    "Treat yourself this {when}: 2 for 1 on all {item}",
    "Switch to {shop} broadband and get {gift}, no setup fee",
    "Exclusive to you: {off} your next order with code {code}",
    "Win {gift}! Enter our prize draw at {link}",
    "Upgrade now for just {amt} a month, first 3 months free",
    "Happy hour at {shop}: half price {item} every Friday 5-7pm",
    "Your favourites are back in stock and now {off}, grab them at {link}",
    "Get {gift} when you download the {shop} app this {when}",
    "Limited offer: save {amt} on annual membership, today only",
];

const EN_SLOTS: Slots = Slots {
    names: &["shop", "off", "when", "link", "gift", "amt", "item", "code"],
    values: &[
        &[
            "FreshMart",
            "StyleBox",
            "Peak Gym",
            "Lumen Mobile",
            "Corner Café",
        ],
        &["20% off", "30% off", "half price", "up to 60% off"],
        &["weekend", "week", "month", "Friday"],
        &["bit.ly/9Qr", "deals.co/x", "go.to/save"],
        &[
            "a £10 voucher",
            "a free coffee",
            "£50 credit",
            "a free month",
            "an iPad",
        ],
        &["£5", "£15", "£25", "$30"],
        &["cocktails", "pizzas", "books", "candles"],
        &["TREAT20", "WELCOME", "SAVE15"],
    ],
};

/// Plain adverts: four fillings of each template, all for training.
#[must_use]
pub fn rows() -> Vec<Row> {
    let mut rows = expand(ZH, &ZH_SLOTS, "marketing", 4, 0xAD00_0001);
    rows.extend(expand(EN, &EN_SLOTS, "marketing", 4, 0xAD00_0002));
    for r in &mut rows {
        r.held_out = false;
    }
    rows
}
