//! The terms of a grant — the resources it names (RFC 8707 §2, `grant_resources`) and its OIDC
//! `claims` request (Core §5.5, `grant_claims`) — read in the same statement as the code or
//! refresh token that carries the grant id, as two scalar subqueries: of a `SELECT`
//! ([`one_with_terms`]) or of the `RETURNING` clause of the `UPDATE` that redeems a code
//! ([`update_one_with_terms`]). A code redemption then costs one statement instead of four, a
//! rotation's read one instead of three.

use gatehouse_core::StoreError;
use gatehouse_core::claims_request::ClaimsRequest;
use gatehouse_core::ports::GrantTerms;
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SubQueryStatement};
use sea_orm::{
    ConnectionTrait, EntityTrait, FromQueryResult, Iterable, QuerySelect, QueryTrait, Select,
    UpdateMany,
};

use crate::resources::split;

const RESOURCES: &str = "grant_terms_resources";
const CLAIMS: &str = "grant_terms_claims";

/// The two terms of the grant whose id is in `grant_id`: its resources, its claims request.
fn lookups(grant_id: impl IntoColumnRef + Copy) -> [Expr; 2] {
    use crate::entities::{grant_claims as c, grant_resources as r};
    [
        lookup::<r::Entity>(r::Column::Resources, r::Column::GrantId, grant_id),
        lookup::<c::Entity>(c::Column::Claims, c::Column::GrantId, grant_id),
    ]
}

/// `select` with two more columns: the terms of the grant whose id is in `grant_id`.
fn with_terms<E: EntityTrait>(select: Select<E>, grant_id: impl IntoColumnRef + Copy) -> Select<E> {
    let [resources, claims] = lookups(grant_id);
    select.expr_as(resources, RESOURCES).expr_as(claims, CLAIMS)
}

/// `(SELECT value FROM T WHERE T.key = grant_id)`: NULL when the grant has no row in `T`.
fn lookup<T: EntityTrait>(value: T::Column, key: T::Column, grant_id: impl IntoColumnRef) -> Expr {
    let query = Query::select()
        .column(value)
        .from(T::default())
        .and_where(Expr::col((T::default(), key)).equals(grant_id))
        .to_owned();
    Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(query)))
}

/// The one row of `select`, as a model, with the terms of the grant whose id is in its column
/// `grant_id`.
pub(crate) async fn one_with_terms<E, C>(
    db: &C,
    select: Select<E>,
    grant_id: impl IntoColumnRef + Copy,
) -> Result<Option<(E::Model, GrantTerms)>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let stmt = with_terms(select, grant_id).build(db.get_database_backend());
    let Some(row) = db.query_one_raw(stmt).await.map_err(StoreError::backend)? else {
        return Ok(None);
    };
    let model = E::Model::from_query_result(&row, "").map_err(StoreError::backend)?;
    let text = |col: &str| {
        row.try_get::<Option<String>>("", col)
            .map_err(StoreError::backend)
    };
    let terms = terms(text(RESOURCES)?, text(CLAIMS)?)?;
    Ok(Some((model, terms)))
}

/// Runs `update`, which matches at most one row, and returns that row as the update left it,
/// with the terms of the grant whose id is in its column `grant_id`: `None` when it matched
/// nothing. One statement (`UPDATE … RETURNING`: SQLite ≥ 3.35, PostgreSQL).
pub(crate) async fn update_one_with_terms<E, C>(
    db: &C,
    update: UpdateMany<E>,
    grant_id: impl IntoColumnRef + Copy,
) -> Result<Option<(E::Model, GrantTerms)>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    // The entity's columns by name, then the terms: sea-query's `RETURNING` takes no aliases,
    // so the terms are read by position.
    let columns: Vec<Expr> = E::Column::iter()
        .map(|c| Expr::col((E::default(), c)))
        .collect();
    let count = columns.len();
    let mut query = update.into_query();
    query.returning(Query::returning().exprs(columns.into_iter().chain(lookups(grant_id))));
    let stmt = db.get_database_backend().build(&query);
    let Some(row) = db.query_one_raw(stmt).await.map_err(StoreError::backend)? else {
        return Ok(None);
    };
    let model = E::Model::from_query_result(&row, "").map_err(StoreError::backend)?;
    let text = |i: usize| {
        row.try_get_by_index::<Option<String>>(i)
            .map_err(StoreError::backend)
    };
    let terms = terms(text(count)?, text(count + 1)?)?;
    Ok(Some((model, terms)))
}

/// The terms from the two columns as read: the resources' list, the claims request's JSON.
fn terms(resources: Option<String>, claims: Option<String>) -> Result<GrantTerms, StoreError> {
    let resources = match resources {
        Some(list) => split("grant_resources.resources", &list)?,
        None => Vec::new(),
    };
    let claims = claims
        .map(|json| {
            ClaimsRequest::from_json(&json)
                .map_err(|e| StoreError::corrupt("grant_claims.claims", e))
        })
        .transpose()?;
    Ok(GrantTerms { resources, claims })
}
