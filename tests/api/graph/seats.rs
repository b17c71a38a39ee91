//! Licence seats through the Graph client against the fake Graph: one `subscribedSkus` read
//! kept for a while, and a licence Graph refuses for lack of seats.

use super::*;
use ms365_accountcreator::directory::LicenceSeats;

fn seats(list: &[LicenceSeats], sku: &str) -> (i64, i64, i64) {
    let seats = list.iter().find(|s| s.sku_id == sku).expect("the SKU");
    (seats.prepaid, seats.consumed, seats.free())
}

#[tokio::test]
async fn seats_are_read_once_for_every_sku_and_kept_until_they_go_stale() {
    // Arrange
    let fake = FakeGraph::start().await;
    let students = fake.add_sku("STANDARDWOFFPACK_STUDENT", 3);
    let faculty = fake.add_sku("STANDARDWOFFPACK_FACULTY", 0);
    let skus = [students.clone(), faculty.clone()];
    let graph = GraphClient::from_settings(&settings(&fake, &[], &skus))
        .unwrap()
        .with_seats_fresh_for(Duration::from_millis(300));

    // Act
    let first = graph.licence_seats(&skus).await.unwrap();
    let only_students = graph.licence_seats(&skus[..1]).await.unwrap();
    fake.set_sku_units(&faculty, 5);
    let kept = graph.licence_seats(&skus).await.unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    let stale = graph.licence_seats(&skus).await.unwrap();

    // Assert
    assert_eq!(seats(&first, &students), (3, 0, 3));
    assert_eq!(seats(&first, &faculty), (0, 0, 0));
    assert_eq!(only_students.len(), 1);
    assert_eq!(seats(&kept, &faculty), (0, 0, 0), "kept, not read again");
    assert_eq!(fake.count(Endpoint::SubscribedSkus), 2);
    assert_eq!(seats(&stale, &faculty), (5, 0, 5), "read again once stale");
    assert_eq!(graph.licence_skus(), skus);
}

#[tokio::test]
async fn concurrent_askers_share_one_read() {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 3);
    fake.delay(Endpoint::SubscribedSkus, 1, Duration::from_millis(200));
    let graph = client(
        &settings(&fake, &[], std::slice::from_ref(&sku)),
        Duration::from_secs(5),
    );
    let skus = [sku];

    let (a, b, c) = tokio::join!(
        graph.licence_seats(&skus),
        graph.licence_seats(&skus),
        graph.licence_seats(&skus)
    );

    assert!(a.is_ok() && b.is_ok() && c.is_ok());
    assert_eq!(fake.count(Endpoint::SubscribedSkus), 1);
}

#[tokio::test]
async fn a_licence_refused_for_lack_of_seats_is_no_seat_and_the_kept_count_learns_it() {
    // Arrange: the seat count read says one is free; then an administrator's tool takes it.
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STANDARDWOFFPACK_STUDENT", 1);
    let graph = client(
        &settings(&fake, &[], std::slice::from_ref(&sku)),
        Duration::from_secs(5),
    );
    let skus = [sku.clone()];
    assert_eq!(seats(&graph.licence_seats(&skus).await.unwrap(), &sku).2, 1);
    fake.set_sku_units(&sku, 0);
    let user = created_user(&graph).await.unwrap();

    // Act
    let outcome = graph
        .grant(
            &user.object_id,
            Grants {
                licences: true,
                groups: false,
            },
        )
        .await;

    // Assert
    match outcome.licences {
        Err(DirectoryError::NoSeat { sku: named, said }) => {
            assert_eq!(named, sku);
            assert!(
                said.contains("does not have any available licenses"),
                "{said}"
            );
        }
        other => panic!("no seat expected: {other:?}"),
    }
    let kept = graph.licence_seats(&skus).await.unwrap();
    assert_eq!(
        seats(&kept, &sku).2,
        0,
        "no other registration tries in vain"
    );
    assert_eq!(
        fake.count(Endpoint::SubscribedSkus),
        1,
        "learnt without a read"
    );
}

#[tokio::test]
async fn seats_go_into_the_metrics_as_they_are_read() {
    let fake = FakeGraph::start().await;
    let sku = fake.add_sku("STUDENT", 7);
    let metrics = ms365_accountcreator::metrics::Metrics::new();
    let graph = client(
        &settings(&fake, &[], std::slice::from_ref(&sku)),
        Duration::from_secs(5),
    )
    .with_metrics(metrics.clone());

    graph
        .licence_seats(std::slice::from_ref(&sku))
        .await
        .unwrap();

    let text = metrics.render(0);
    for line in [
        format!("ms365_licence_seats_free{{sku=\"{sku}\"}} 7"),
        format!("ms365_licence_seats_prepaid{{sku=\"{sku}\"}} 7"),
        format!("ms365_licence_seats_consumed{{sku=\"{sku}\"}} 0"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
}
