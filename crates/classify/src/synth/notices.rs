//! Pure notices (codes, shipping, bills, bank alerts, appointments, tickets, utilities) and
//! the same notices with a selling clause added before or after them — the disguise a
//! sender uses to send an advert without marketing consent.

use super::{Row, Slots, expand, held_out};
use crate::train::SplitMix;

/// (label, template) of pure notices in Chinese.
const ZH: &[(&str, &str)] = &[
    (
        "verification",
        "【{shop}】验证码{code}，用于登录，5分钟内有效，请勿泄露给他人。",
    ),
    (
        "verification",
        "【{shop}】您正在修改支付密码，验证码{code}，如非本人操作请忽略。",
    ),
    (
        "verification",
        "【{bank}】动态密码{code}，您正在进行网上支付，金额{amt}元，切勿告知他人。",
    ),
    (
        "transactional",
        "【{shop}】您的订单已发货，由{courier}配送，运单号{track}，请注意查收。",
    ),
    (
        "transactional",
        "【{courier}】您的快件已到{station}，取件码{pick}，请于今日20:00前领取。",
    ),
    (
        "transactional",
        "【{courier}】您的包裹已签收，签收人：本人。如有疑问请联系派件员。",
    ),
    (
        "transactional",
        "【{bank}】您尾号{tail}的储蓄卡{date}消费{amt}元，余额{bal}元。",
    ),
    (
        "transactional",
        "【{bank}】您的信用卡本期账单{amt}元，最后还款日{date}，请按时还款。",
    ),
    (
        "transactional",
        "【{util}】您户号{acct}的{date}电费{amt}元已出账，请于月底前缴纳。",
    ),
    (
        "transactional",
        "【{util}】因管道检修，{date}9:00-17:00您所在小区停水，请提前储水。",
    ),
    (
        "transactional",
        "【{hosp}】您已预约{date}上午{dept}门诊，就诊序号{num}，请携带身份证按时就诊。",
    ),
    (
        "transactional",
        "【12306】订单{track}，您已购{date}G{num}次{seat}，请凭身份证进站乘车。",
    ),
    (
        "transactional",
        "【{air}】您预订的{date}航班已出票，请提前两小时到达机场办理值机。",
    ),
    (
        "transactional",
        "【{shop}】您申请的退款{amt}元已原路退回，预计1-3个工作日到账。",
    ),
    (
        "transactional",
        "【{cinema}】您购买的{date}电影票已出票，取票码{code}，请提前15分钟到场。",
    ),
    (
        "transactional",
        "【{util}】您的燃气费余额不足{amt}元，为避免停气请及时充值。",
    ),
    (
        "transactional",
        "【{bank}】您尾号{tail}的账户于{date}转入{amt}元，余额{bal}元。",
    ),
    (
        "transactional",
        "【{hosp}】您的体检报告已出，可在公众号查询或到前台领取纸质报告。",
    ),
    (
        "transactional",
        "【{shop}】您的会员卡积分{num}分将于{date}到期，可在个人中心查看明细。",
    ),
    (
        "transactional",
        "【{carrier}】您本月话费{amt}元，套餐内流量已用80%，详情可查询账单。",
    ),
    (
        "transactional",
        "【{hotel}】您预订的{date}入住已确认，订单号{track}，如需取消请提前一天。",
    ),
    (
        "transactional",
        "【{shop}】您的订单{track}已支付成功，金额{amt}元，商家正在备货。",
    ),
];

/// (label, template) of pure notices in English.
const EN: &[(&str, &str)] = &[
    (
        "verification",
        "{ebrand}: your verification code is {code}. It expires in 10 minutes. Never share it.",
    ),
    (
        "verification",
        "{ebank}: use {code} to approve your payment of {eamt}. If this wasn't you, call us.",
    ),
    (
        "transactional",
        "{ebrand}: your order has shipped with {ecourier}, tracking {etrack}. Arriving {eday}.",
    ),
    (
        "transactional",
        "{ecourier}: your parcel is at {epoint}, collection code {pick}. Collect by {eday}.",
    ),
    (
        "transactional",
        "{ecourier}: your parcel was delivered and signed for at 14:32.",
    ),
    (
        "transactional",
        "{ebank}: card ending {tail} was charged {eamt} at a grocery store. Balance {ebal}.",
    ),
    (
        "transactional",
        "{ebank}: your credit card statement is ready, {eamt} due by {eday}.",
    ),
    (
        "transactional",
        "{eutil}: your electricity bill of {eamt} is ready. Payment is due by {eday}.",
    ),
    (
        "transactional",
        "{eutil}: water will be off on {eday} from 9am to 5pm for mains repairs.",
    ),
    (
        "transactional",
        "{eclinic}: reminder of your appointment on {eday} at 10:40 with Dr Shah.",
    ),
    (
        "transactional",
        "{eair}: your flight on {eday} is confirmed, booking ref {etrack}. Check-in opens 24h before.",
    ),
    (
        "transactional",
        "{erail}: your e-ticket for {eday} is attached to booking {etrack}. Coach C, seat 42.",
    ),
    (
        "transactional",
        "{ebrand}: your refund of {eamt} has been processed and will reach your card in 3-5 days.",
    ),
    (
        "transactional",
        "{ecinema}: your tickets for {eday} are booked, collection code {code}.",
    ),
    (
        "transactional",
        "{eutil}: your gas meter reading is due, please submit it by {eday}.",
    ),
    (
        "transactional",
        "{ebank}: {eamt} was paid into your account ending {tail}. Balance {ebal}.",
    ),
    (
        "transactional",
        "{eclinic}: your test results are ready, please book a call with your GP.",
    ),
    (
        "transactional",
        "{ebrand}: payment of {eamt} received for order {etrack}. We're packing it now.",
    ),
    (
        "transactional",
        "{ehotel}: your stay from {eday} is confirmed, ref {etrack}. Free cancellation until 48h before.",
    ),
    (
        "transactional",
        "{ecarrier}: you've used 80% of your monthly data. Your bill of {eamt} is due {eday}.",
    ),
];

/// Selling clauses in Chinese, with the connector that makes them a tail.
const ZH_TAILS: &[&str] = &[
    "另外，双11全场5折起，点击 {link} 立即抢购，回T退订",
    "顺便告诉您，新人首单立减20元，下载APP即可领取",
    "同时，本店年货节满299减50，优惠券限时领取 {link}",
    "PS：会员日全场第二件半价，仅限今天！",
    "附：推荐好友注册各得30元红包，详询客服",
    "此外，充值100送50活动火热进行中，退订回N",
    "另有爆款直降，低至1折，戳 {link}",
    "温馨提示：开通年卡立享8折，还送价值199元礼包",
    "本周六周年庆，到店消费满200送100，欢迎光临",
    "现在办理宽带升级，首年仅需99元，回复1立即办理",
    "顺便推荐：半价日每周三，全场饮品买一送一",
    "另外，邀请好友下单，您可获得50元返现",
    "新店开业，前100名顾客送精美礼品一份",
    "同时为您推荐：爆款羽绒服限时秒杀，仅需199元",
    "另外本月办理信用卡分期，手续费享5折优惠",
    "PS：关注公众号抽奖，iPhone等你来拿",
    "顺便说一下，积分可兑换超值好礼，活动截止本周日",
    "附：春季新品上市，会员专享9折，详情见 {link}",
    "即日起加入会员免费领取洗车券3张",
    "另外，本店满3件包邮再打9折，欢迎选购",
];

/// Selling clauses in English.
const EN_TAILS: &[&str] = &[
    "Also: Black Friday starts now, 50% off everything at {elink}. Reply STOP to opt out",
    "P.S. new customers get £10 off their first order with code SAVE10",
    "Plus, refer a friend and you both get £20 credit!",
    "By the way, today only: buy one, get the second half price",
    "Bonus: upgrade to Premium for just £1 for 3 months, tap {elink}",
    "PS: our winter sale ends Sunday, up to 70% off",
    "Don't miss our half-price Wednesday, every film £4",
    "Treat yourself: 2 for 1 on all desserts this weekend",
    "Also, switch to our annual plan and save 25%, see {elink}",
    "Exclusive offer: double points on every purchase this week",
    "Also: join our loyalty club today and get 15% off your next shop",
    "Flash sale! Everything under £10 for the next 24 hours",
    "P.S. upgrade your phone for £0 upfront, visit {elink}",
    "Want more? Add Netflix to your plan for half price",
    "Plus: free delivery on orders over £20 this month only",
    "Limited time: get 3 months free when you sign up by Friday",
    "By the way, our new autumn range has landed, shop now at {elink}",
    "PS: win a weekend for two, enter our prize draw today",
    "Also, book now and save 30% on summer holidays",
    "Special deal: buy 2 get 1 free on all skincare",
];

const ZH_SLOTS: Slots = Slots {
    names: &[
        "shop", "bank", "courier", "station", "pick", "track", "code", "amt", "bal", "tail",
        "date", "util", "acct", "hosp", "dept", "num", "seat", "air", "cinema", "carrier", "hotel",
        "link",
    ],
    values: &[
        &["好店旗舰店", "优选商城", "鲜果坊", "拼拼购", "悦读书城"],
        &["招商银行", "建设银行", "农业银行", "浦发银行"],
        &["顺丰速运", "中通快递", "京东物流", "韵达快递"],
        &["幸福里驿站", "小区南门快递柜", "菜鸟驿站(东门)"],
        &["3-2-1056", "8-4-2210", "12-1-3301", "5-6-0719"],
        &["SF1402938811", "E28841937", "75310082946"],
        &["482913", "7351", "603857", "0815", "9184"],
        &["128.00", "56.50", "2,300.00", "19.90", "899.00"],
        &["3,562.18", "12,004.55", "806.30"],
        &["0381", "6627", "1194"],
        &["12月3日", "11月28日", "1月5日", "本月15日"],
        &["国家电网", "自来水公司", "燃气公司"],
        &["3101229876", "0044821"],
        &["市第一人民医院", "仁和医院", "社区卫生服务中心"],
        &["口腔科", "眼科", "内科"],
        &["12", "35", "4821", "1206"],
        &["二等座", "一等座"],
        &["东方航空", "南方航空", "国航"],
        &["万达影城", "星美国际影城"],
        &["中国移动", "中国联通", "中国电信"],
        &["如家酒店", "全季酒店"],
        &["t.cn/A6x8Kd", "m.tb.cn/h.5xY", "dwz.cn/q3Zp"],
    ],
};

const EN_SLOTS: Slots = Slots {
    names: &[
        "ebrand", "ebank", "ecourier", "epoint", "pick", "etrack", "code", "eamt", "ebal", "tail",
        "eday", "eutil", "eclinic", "eair", "erail", "ecinema", "ehotel", "ecarrier", "elink",
    ],
    values: &[
        &["ShopRight", "Northway", "Bloom & Co", "GadgetHub"],
        &["Halden Bank", "CityTrust", "Monzo"],
        &["DPD", "Evri", "Royal Mail", "ParcelGo"],
        &[
            "the Spar locker",
            "your local post office",
            "Locker 14, High St",
        ],
        &["4821", "P-3307", "771902"],
        &["HX29KL", "1Z99A4", "QR7781"],
        &["482913", "7351", "603857"],
        &["£42.10", "$128.00", "£9.99", "£310.45"],
        &["£1,204.33", "£86.12", "$2,410.00"],
        &["0381", "6627", "1194"],
        &["12 Dec", "Monday", "tomorrow", "3 Jan"],
        &["Severn Power", "City Water", "BrightGas"],
        &["Park Surgery", "Riverside Dental", "Eye Care Clinic"],
        &["SkyJet", "Coastal Air"],
        &["NorthRail", "Trainline"],
        &["Odeon", "Picturehouse"],
        &["Premier Stay", "Harbour Hotel"],
        &["Vodafone", "EE", "Three"],
        &["bit.ly/3xYz", "shop.ly/deal", "go.co/win"],
    ],
};

/// Pure notices: each template filled five times (eight when held out).
#[must_use]
pub fn pure_rows() -> Vec<Row> {
    let mut rows = labelled(ZH, &ZH_SLOTS, 0xA11C_E001);
    rows.extend(labelled(EN, &EN_SLOTS, 0xA11C_E002));
    rows
}

fn labelled(templates: &[(&'static str, &str)], slots: &Slots, seed: u64) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, (label, t)) in templates.iter().enumerate() {
        // Held-out templates are a quarter of the list, so they get more fillings.
        let fills = if held_out(i) { 8 } else { 5 };
        let mut one = expand(&[t], slots, label, fills, seed ^ i as u64);
        for r in &mut one {
            r.held_out = held_out(i);
        }
        rows.extend(one);
    }
    rows
}

/// Selling clauses on their own (training templates only), so that a clause cut from a
/// notice is read for what it is: the model otherwise only sees adverts as whole messages.
#[must_use]
pub fn tail_rows() -> Vec<Row> {
    let mut rows = expand(ZH_TAILS, &ZH_SLOTS, "marketing", 2, 0x7A11_0001);
    rows.extend(expand(EN_TAILS, &EN_SLOTS, "marketing", 2, 0x7A11_0002));
    rows.retain(|r| !r.held_out);
    rows
}

/// Notices with a selling clause: a held-out row pairs a held-out notice template with a
/// held-out tail, so neither half was seen in training. The tail goes after the notice in
/// two of three rows, before it in the third.
#[must_use]
pub fn disguised_rows() -> Vec<Row> {
    let mut rows = disguise(ZH, ZH_TAILS, &ZH_SLOTS, "", 0xD15C_0001);
    rows.extend(disguise(EN, EN_TAILS, &EN_SLOTS, " ", 0xD15C_0002));
    rows
}

fn disguise(
    notices: &[(&str, &str)],
    tails: &[&str],
    slots: &Slots,
    sep: &str,
    seed: u64,
) -> Vec<Row> {
    let mut rng = SplitMix(seed);
    let mut rows = Vec::new();
    for (i, (_, notice)) in notices.iter().enumerate() {
        for (j, tail) in tails.iter().enumerate() {
            if held_out(i) != held_out(j) {
                continue;
            }
            // Held-out pairs are few (a quarter of each list), so each is filled three times.
            let fills = if held_out(i) { 3 } else { 1 };
            for f in 0..fills {
                let n = slots.fill(notice, &mut rng);
                let t = slots.fill(tail, &mut rng);
                let text = if (i + j + f) % 3 == 2 {
                    // Before the notice: the advert first, then the notice.
                    let end = if sep.is_empty() { "！" } else { "! " };
                    format!("{}{end}{n}", t.trim_end_matches(['!', '！']))
                } else {
                    format!("{n}{sep}{t}")
                };
                rows.push(Row {
                    label: "marketing",
                    text,
                    held_out: held_out(i),
                });
            }
        }
    }
    rows
}
