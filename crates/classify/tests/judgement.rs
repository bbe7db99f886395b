//! The committed default model holds the consent judgement's targets on the held-out
//! generated sets (`corpus/synth/test`: templates never trained on): no message from a person
//! and no pure notice read as marketing or fraud, and at least 95% of notices with a
//! selling clause read as marketing with the clause named.

use classify::Model;
use classify::judgement::{Judgement, synth_test_sets};

#[test]
fn people_and_notices_are_never_unwanted_and_disguised_notices_are_caught() {
    let model = Model::default_model().expect("embedded model");
    let [people, notices, disguised] = synth_test_sets().expect("corpus/synth/test");
    let j = Judgement::measure(&model, &people, &notices, &disguised, None);
    assert!(people.len() >= 100 && notices.len() >= 70 && disguised.len() >= 100);
    assert_eq!(j.people.unwanted, 0, "{j}");
    assert_eq!(j.notices.unwanted, 0, "{j}");
    assert!(j.disguised.unwanted_rate() >= 0.95, "{j}");
    assert_eq!(
        j.disguised.clause_named, j.disguised.unwanted,
        "every caught disguise names its clause: {j}"
    );
    assert!(j.met());
}

#[test]
fn the_issue_story_names_the_selling_clause() {
    let model = Model::default_model().expect("embedded model");
    let text = "【好店旗舰店】您的订单已发货，预计明天送达。另外双11全场5折，点击领取优惠券";
    let r = model.read_explained(text);
    assert_eq!(r.category, "marketing", "{r:?}");
    let clause = r.clause_text(text).expect("a clause");
    assert!(clause.starts_with("另外双11"), "{clause}");
    // A person mentioning a sale is a person.
    let r = model.read("张总您好，我是小李，明天下午三点的签约改到四点，麻烦您回个电话确认一下");
    assert!(!matches!(r.category, "marketing" | "fraud"), "{r:?}");
}
