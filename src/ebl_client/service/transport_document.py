"""The project's model of DCSA's `TransportDocument` (eBL Issuance v3.0.4): every property the schema
constrains, with its type, length, pattern, format, enumeration and whether it is required, so that the
service accepts no document DCSA's schema refuses. Title rules on top of it (a bill of lading, ISSUED,
electronic, to order or straight...) are `documents.validate_transport_document`'s.

JSON Schema's rules, kept: properties the schema does not name are allowed (and ignored); a named property
may be left out unless required, never null; `oneOf` means exactly one alternative holds and `anyOf` at least
one, each alternative constraining only its own properties (`InvoicePayableAt`, `PlaceOfIssue`,
`DangerousGoods`, `PartyContactDetail`). Deprecated properties are still checked: DCSA still allows them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

T = r"^\S(?:.*\S)?$"  # no blanks at either end
INT32 = 2**31 - 1


def _date(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("is not a date (YYYY-MM-DD)")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a calendar date") from None
    return value


def _date_time(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value):
        raise ValueError("is not a date-time (RFC 3339)")
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not a valid date-time") from None
    return value


Date = Annotated[str, AfterValidator(_date)]
DateTime = Annotated[str, AfterValidator(_date_time)]
Max2 = Annotated[str, StringConstraints(max_length=2)]
Max3 = Annotated[str, StringConstraints(max_length=3)]
Max4 = Annotated[str, StringConstraints(max_length=4)]
Max7 = Annotated[str, StringConstraints(max_length=7)]
Max10 = Annotated[str, StringConstraints(max_length=10)]
Max11 = Annotated[str, StringConstraints(max_length=11)]
Max15 = Annotated[str, StringConstraints(max_length=15)]
Max20 = Annotated[str, StringConstraints(max_length=20)]
Max30 = Annotated[str, StringConstraints(max_length=30)]
Max35 = Annotated[str, StringConstraints(max_length=35)]
Max50 = Annotated[str, StringConstraints(max_length=50)]
Max65 = Annotated[str, StringConstraints(max_length=65)]
Max70 = Annotated[str, StringConstraints(max_length=70)]
Max100 = Annotated[str, StringConstraints(max_length=100)]
Max150 = Annotated[str, StringConstraints(max_length=150)]
Max250 = Annotated[str, StringConstraints(max_length=250)]
Max255 = Annotated[str, StringConstraints(max_length=255)]
Max50000 = Annotated[str, StringConstraints(max_length=50000)]
Trim10 = Annotated[str, StringConstraints(pattern=T, max_length=10)]
Trim11 = Annotated[str, StringConstraints(pattern=T, max_length=11)]
Trim16 = Annotated[str, StringConstraints(pattern=T, max_length=16)]
Trim20 = Annotated[str, StringConstraints(pattern=T, max_length=20)]
Trim30 = Annotated[str, StringConstraints(pattern=T, max_length=30)]
Trim35 = Annotated[str, StringConstraints(pattern=T, max_length=35)]
Trim4 = Annotated[str, StringConstraints(pattern=T, max_length=4)]
Trim50 = Annotated[str, StringConstraints(pattern=T, max_length=50)]
Trim6 = Annotated[str, StringConstraints(pattern=T, max_length=6)]
Trim70 = Annotated[str, StringConstraints(pattern=T, max_length=70)]
Trim100 = Annotated[str, StringConstraints(pattern=T, max_length=100)]
Trim250 = Annotated[str, StringConstraints(pattern=T, max_length=250)]
Trim20000 = Annotated[str, StringConstraints(pattern=T, max_length=20000)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$", min_length=2, max_length=2)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", min_length=3, max_length=3)]
UNLocation = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$", min_length=5, max_length=5)]
NoBlanks4 = Annotated[str, StringConstraints(pattern=r"^\S+$", max_length=4)]
Number = float
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
Count = Annotated[int, Field(ge=0, le=INT32)]
Int32 = Annotated[int, Field(ge=-INT32 - 1, le=INT32)]
WeightUnit = Literal["KGM", "LBR"]
VolumeUnit = Literal["MTQ", "FTQ"]
TemperatureUnit = Literal["CEL", "FAH"]


class Dcsa(BaseModel):
    """JSON Schema's object: strict types, unknown properties allowed, named ones never null."""

    model_config = ConfigDict(strict=True, extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null (leave the property out)")
        return value


def _string(value: Any, pattern: str, min_length: int, max_length: int) -> bool:
    return isinstance(value, str) and min_length <= len(value) <= max_length and re.search(pattern, value) is not None


def _one_of(data: Any, alternatives: dict[str, tuple[str, int, int]], what: str) -> Any:
    """JSON Schema's oneOf over alternatives that each require one property (name -> its constraints)."""
    if isinstance(data, dict):
        holding = [name for name, (pattern, low, high) in alternatives.items()
                   if name in data and _string(data[name], pattern, low, high)]
        if len(holding) != 1:
            names = " or ".join(alternatives)
            raise ValueError(f"{what}: give exactly one valid {names}" + (f" (not {', '.join(holding)})"
                                                                          if holding else ""))
    return data


# --- small values ---------------------------------------------------------------------------------------------


class IdentifyingCode(Dcsa):
    codeListProvider: Max100
    partyCode: Max150
    codeListName: Max100 | None = None


class TaxLegalReference(Dcsa):
    type: Trim50
    countryCode: Country
    value: Trim35


class PartyContactDetail(Dcsa):
    name: Trim35

    @model_validator(mode="before")
    @classmethod
    def _phone_or_email(cls, data: Any) -> Any:  # anyOf: at least one alternative holds
        if isinstance(data, dict) and not (_string(data.get("phone"), T, 0, 30)
                                           or _string(data.get("email"), r"^.+@\S+$", 0, 100)):
            raise ValueError("a contact gives a valid phone (at most 30 characters) or email (at most 100)")
        return data


class Address(Dcsa):
    street: Max70
    streetNumber: Max50 | None = None
    floor: Trim50 | None = None
    postCode: Max10 | None = None
    POBox: Max20 | None = None
    city: Trim35
    stateRegion: Max65 | None = None
    countryCode: Country


class PartyAddress(Address):
    UNLocationCode: UNLocation | None = None


class City(Dcsa):
    city: Trim35
    stateRegion: Max65 | None = None
    countryCode: Country


class Facility(Dcsa):
    facilityCode: Trim6
    facilityCodeListProvider: Literal["BIC", "SMDG"]


class GeoCoordinate(Dcsa):
    latitude: Max10
    longitude: Max11


class Measure(Dcsa):
    value: Positive


class Weight(Measure):
    unit: WeightUnit


class Volume(Measure):
    unit: VolumeUnit


class NetExplosiveContent(Measure):
    unit: Literal["KGM", "LBR", "GRM", "ONZ"]


class NetVolume(Measure):
    unit: Literal["MTQ", "FTQ", "LTR"]


class Reference(Dcsa):
    type: Max3
    value: Trim35


class ReferenceConsignmentItem(Dcsa):
    type: Max3
    values: Annotated[list[Trim35], Field(min_length=1)]


class CustomsReference(Dcsa):
    type: Trim50
    countryCode: Country
    values: Annotated[list[Trim35], Field(min_length=1)]


class NationalCommodityCode(Dcsa):
    type: Trim10
    countryCode: Country | None = None
    values: Annotated[list[Trim10], Field(min_length=1)]


class ExtendedNationalCommodityCode(Dcsa):
    type: Trim10
    countryCode: Country | None = None
    values: Annotated[list[Trim16], Field(min_length=1)]


class License(Dcsa):
    isRequired: bool | None = None
    reference: Trim35 | None = None
    issueDate: Date | None = None
    expiryDate: Date | None = None


# --- parties --------------------------------------------------------------------------------------------------

AddressLines = Annotated[list[Max250], Field(max_length=5)]
DisplayedAddress = Annotated[list[Max35], Field(max_length=6)]
Codes = list[IdentifyingCode]
SomeCodes = Annotated[list[IdentifyingCode], Field(min_length=1)]
PurchaseOrders = list[Trim35]


class Party(Dcsa):
    partyName: Trim70
    address: PartyAddress | None = None
    addressLines: AddressLines | None = None
    identifyingCodes: Codes | None = None
    taxLegalReferences: list[TaxLegalReference] | None = None
    partyContactDetails: list[PartyContactDetail] | None = None
    reference: Trim35 | None = None


class Shipper(Party):
    eblPlatform: NoBlanks4 | None = None
    typeOfPerson: Trim50 | None = None
    displayedAddress: DisplayedAddress | None = None
    purchaseOrderReferences: PurchaseOrders | None = None


class Consignee(Shipper):
    identifyingCodes: SomeCodes
    isNotifyParty: bool | None = None


class Endorsee(Dcsa):
    partyName: Trim70
    eblPlatform: NoBlanks4 | None = None
    address: PartyAddress | None = None
    addressLines: AddressLines | None = None
    displayedAddress: DisplayedAddress | None = None
    identifyingCodes: SomeCodes
    taxLegalReferences: list[TaxLegalReference] | None = None
    partyContactDetails: list[PartyContactDetail] | None = None
    isNotifyParty: bool | None = None


class OnBehalfOfShipper(Dcsa):
    partyName: Trim70
    address: PartyAddress | None = None
    addressLines: AddressLines | None = None
    identifyingCodes: Codes | None = None


class OnBehalfOfConsignee(OnBehalfOfShipper):
    identifyingCodes: SomeCodes


class IssuingParty(Dcsa):
    partyName: Trim70
    address: PartyAddress
    addressLines: AddressLines | None = None
    identifyingCodes: Codes | None = None
    taxLegalReferences: list[TaxLegalReference] | None = None
    partyContactDetails: list[PartyContactDetail] | None = None


class CarriersAgentAtDestination(Dcsa):
    partyName: Trim70
    address: Address
    addressLines: AddressLines | None = None
    partyContactDetails: list[PartyContactDetail]


class NotifyParty(Party):
    typeOfPerson: Trim50 | None = None
    displayedAddress: DisplayedAddress | None = None


class OtherDocumentParty(Dcsa):
    party: Party
    partyFunction: Max3


class DocumentParties(Dcsa):
    shipper: Shipper
    onBehalfOfShipper: OnBehalfOfShipper | None = None
    consignee: Consignee | None = None
    onBehalfOfConsignee: OnBehalfOfConsignee | None = None
    endorsee: Endorsee | None = None
    issuingParty: IssuingParty
    carriersAgentAtDestination: CarriersAgentAtDestination | None = None
    notifyParties: Annotated[list[NotifyParty], Field(max_length=3)] | None = None
    other: list[OtherDocumentParty] | None = None


# --- cargo and equipment ---------------------------------------------------------------------------------------


class EmergencyContactDetails(Dcsa):
    contact: Max255
    provider: Max255 | None = None
    phone: Trim30
    referenceNumber: Max255 | None = None


class Limits(Dcsa):
    temperatureUnit: TemperatureUnit
    flashPoint: Number | None = None
    transportControlTemperature: Number | None = None
    transportEmergencyTemperature: Number | None = None
    SADT: Number | None = None
    SAPT: Number | None = None


class InnerPackaging(Dcsa):
    quantity: Int32
    material: Max100
    description: Max100
    innerPackagings: list[InnerPackaging] | None = None


class DangerousGoods(Dcsa):
    codedVariantList: Annotated[str, StringConstraints(pattern=r"^[0-3][0-9A-Z]{3}$", min_length=4,
                                                       max_length=4)] | None = None
    properShippingName: Max250
    technicalName: Max250 | None = None
    imoClass: Max4
    subsidiaryRisk1: Annotated[str, StringConstraints(pattern=r"^[0-9](\.[0-9])?$", min_length=1,
                                                      max_length=3)] | None = None
    subsidiaryRisk2: Annotated[str, StringConstraints(pattern=r"^[0-9](\.[0-9])?$", min_length=1,
                                                      max_length=3)] | None = None
    isMarinePollutant: bool | None = None
    packingGroup: Annotated[int, Field(ge=1, le=3)] | None = None
    isLimitedQuantity: bool | None = None
    isExceptedQuantity: bool | None = None
    isSalvagePackings: bool | None = None
    isEmptyUncleanedResidue: bool | None = None
    isWaste: bool | None = None
    isHot: bool | None = None
    isCompetentAuthorityApprovalRequired: bool | None = None
    competentAuthorityApproval: Trim70 | None = None
    segregationGroups: list[Max2] | None = None
    innerPackagings: list[InnerPackaging] | None = None
    emergencyContactDetails: EmergencyContactDetails | None = None
    EMSNumber: Max7 | None = None
    endOfHoldingTime: Date | None = None
    fumigationDateTime: DateTime | None = None
    isReportableQuantity: bool | None = None
    inhalationZone: Annotated[str, StringConstraints(min_length=1, max_length=1)] | None = None
    grossWeight: Weight | None = None
    netWeight: Weight | None = None
    netExplosiveContent: NetExplosiveContent | None = None
    netVolume: NetVolume | None = None
    limits: Limits | None = None

    @model_validator(mode="before")
    @classmethod
    def _un_or_na_number(cls, data: Any) -> Any:
        return _one_of(data, {"UNNumber": (r"^\d{4}$", 4, 4), "NANumber": (r"^\d{4}$", 4, 4)}, "dangerous goods")


class OuterPackaging(Dcsa):
    packageCode: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2}$", min_length=2, max_length=2)] | None = None
    imoPackagingCode: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,5}$", min_length=1,
                                                       max_length=5)] | None = None
    numberOfPackages: Annotated[int, Field(ge=1, le=99999999)]
    description: Max100
    woodDeclaration: Max30 | None = None
    dangerousGoods: list[DangerousGoods] | None = None


class CargoItem(Dcsa):
    equipmentReference: Trim11
    cargoGrossWeight: Weight
    cargoGrossVolume: Volume | None = None
    cargoNetWeight: Weight | None = None
    cargoNetVolume: Volume | None = None
    exportLicense: License | None = None
    importLicense: License | None = None
    outerPackaging: OuterPackaging
    nationalCommodityCodes: list[NationalCommodityCode] | None = None
    extendedNationalCommodityCodes: list[ExtendedNationalCommodityCode] | None = None
    customsReferences: list[CustomsReference] | None = None


class ConsignmentItem(Dcsa):
    carrierBookingReference: Trim35
    descriptionOfGoods: Annotated[list[Trim35], Field(max_length=150)]
    HSCodes: Annotated[list[Annotated[str, StringConstraints(pattern=r"^\d{6,10}$", min_length=6, max_length=10)]],
                       Field(min_length=1)]
    extendedHSCodes: list[Annotated[str, StringConstraints(pattern=r"^\d{6,12}$", min_length=6,
                                                           max_length=12)]] | None = None
    nationalCommodityCodes: list[NationalCommodityCode] | None = None
    extendedNationalCommodityCodes: list[ExtendedNationalCommodityCode] | None = None
    shippingMarks: Annotated[list[Max35], Field(max_length=50)] | None = None
    cargoItems: Annotated[list[CargoItem], Field(min_length=1)]
    exportLicense: License | None = None
    importLicense: License | None = None
    references: list[ReferenceConsignmentItem] | None = None
    customsReferences: list[CustomsReference] | None = None


class Equipment(Dcsa):
    equipmentReference: Trim11
    ISOEquipmentCode: Trim4 | None = None
    tareWeight: Weight | None = None


class Seal(Dcsa):
    number: Max15
    source: Literal["CAR", "SHI", "VET", "CUS"] | None = None


class ActiveReeferSettings(Dcsa):
    temperatureSetpoint: Number | None = None
    temperatureUnit: TemperatureUnit | None = None
    o2Setpoint: Percent | None = None
    co2Setpoint: Percent | None = None
    humiditySetpoint: Percent | None = None
    airExchangeSetpoint: NonNegative | None = None
    airExchangeUnit: Literal["MQH", "FQH"] | None = None
    isVentilationOpen: bool | None = None
    isDrainholesOpen: bool | None = None
    isBulbMode: bool | None = None
    isColdTreatmentRequired: bool | None = None
    isControlledAtmosphereRequired: bool | None = None


class UtilizedTransportEquipment(Dcsa):
    equipment: Equipment
    isShipperOwned: bool
    isNonOperatingReefer: bool | None = None
    activeReeferSettings: ActiveReeferSettings | None = None
    shippingMarks: Annotated[list[Max35], Field(max_length=50)] | None = None
    seals: Annotated[list[Seal], Field(min_length=1)]
    references: list[Reference] | None = None
    customsReferences: list[CustomsReference] | None = None


# --- places and routing ---------------------------------------------------------------------------------------


class Place(Dcsa):
    locationName: Trim100 | None = None
    facilityName: Max100 | None = None
    address: Address | None = None
    addressLines: AddressLines | None = None
    facility: Facility | None = None
    UNLocationCode: UNLocation | None = None


class PlaceWithCoordinates(Place):
    geoCoordinate: GeoCoordinate | None = None


class Port(Dcsa):
    locationName: Trim100 | None = None
    city: City | None = None
    UNLocationCode: UNLocation | None = None


class VesselVoyage(Dcsa):
    vesselName: Trim50
    carrierExportVoyageNumber: Trim50
    universalExportVoyageReference: Annotated[str, StringConstraints(
        pattern=r"^\d{2}[0-9A-Z]{2}[NEWSR]$", min_length=5, max_length=5)] | None = None
    role: Max30 | None = None


class Transports(Dcsa):
    plannedArrivalDate: Date
    plannedDepartureDate: Date
    preCarriageBy: Max50 | None = None
    onCarriageBy: Max50 | None = None
    placeOfReceipt: PlaceWithCoordinates | None = None
    portOfLoading: Port
    portOfDischarge: Port
    placeOfDelivery: PlaceWithCoordinates | None = None
    onwardInlandRouting: Place | None = None
    vesselVoyages: Annotated[list[VesselVoyage], Field(min_length=1)]


class Charge(Dcsa):
    chargeName: Trim50
    extendedChargeName: Trim100 | None = None
    currencyAmount: NonNegative
    currencyCode: Currency
    paymentTermCode: Literal["PRE", "COL"]
    calculationBasis: Trim50
    unitPrice: NonNegative
    quantity: NonNegative


class PlaceOfIssue(Dcsa):
    locationName: Trim100 | None = None

    @model_validator(mode="before")
    @classmethod
    def _un_location_or_country(cls, data: Any) -> Any:
        return _one_of(data, {"UNLocationCode": (r"^[A-Z]{2}[A-Z2-9]{3}$", 5, 5),
                              "countryCode": (r"^[A-Z]{2}$", 2, 2)}, "place of issue")


class InvoicePayableAt(Dcsa):
    @model_validator(mode="before")
    @classmethod
    def _un_location_or_text(cls, data: Any) -> Any:
        return _one_of(data, {"UNLocationCode": (r"^[A-Z]{2}[A-Z2-9]{3}$", 5, 5), "freeText": (r"", 0, 35)},
                       "invoice payable at")


DisplayedName = Annotated[list[Max35], Field(max_length=5)]


class TransportDocument(Dcsa):
    """DCSA's TransportDocument (v3.0.4)."""

    transportDocumentReference: Trim20
    transportDocumentSubReference: Trim100 | None = None
    shippingInstructionsReference: Trim100 | None = None
    transportDocumentStatus: Max50
    transportDocumentTypeCode: Literal["BOL", "SWB"]
    isShippedOnBoardType: bool
    freightPaymentTermCode: Literal["PRE", "COL"] | None = None
    isElectronic: bool
    isToOrder: bool
    numberOfCopiesWithCharges: Count | None = None
    numberOfCopiesWithoutCharges: Count | None = None
    numberOfOriginalsWithCharges: Count | None = None
    numberOfOriginalsWithoutCharges: Count | None = None
    displayedNameForPlaceOfReceipt: DisplayedName | None = None
    displayedNameForPortOfLoad: DisplayedName | None = None
    displayedNameForPortOfDischarge: DisplayedName | None = None
    displayedNameForPlaceOfDelivery: DisplayedName | None = None
    shippedOnBoardDate: Date | None = None
    displayedShippedOnBoardReceivedForShipment: Trim250 | None = None
    termsAndConditions: Max50000
    receiptTypeAtOrigin: Literal["CY", "SD", "CFS"]
    deliveryTypeAtDestination: Literal["CY", "SD", "CFS"]
    cargoMovementTypeAtOrigin: Max3
    cargoMovementTypeAtDestination: Max3
    issueDate: Date | None = None
    receivedForShipmentDate: Date | None = None
    serviceContractReference: Max30 | None = None
    contractQuotationReference: Trim35 | None = None
    extendedContractQuotationReference: Trim70 | None = None
    declaredValue: NonNegative | None = None
    declaredValueCurrency: Currency | None = None
    carrierCode: NoBlanks4
    carrierCodeListProvider: Literal["SMDG", "NMFTA"]
    carrierClauses: list[Trim20000] | None = None
    numberOfRiderPages: Count | None = None
    transports: Transports
    charges: list[Charge] | None = None
    placeOfIssue: PlaceOfIssue | None = None
    invoicePayableAt: InvoicePayableAt
    partyContactDetails: Annotated[list[PartyContactDetail], Field(min_length=1)]
    documentParties: DocumentParties
    consignmentItems: Annotated[list[ConsignmentItem], Field(min_length=1)]
    utilizedTransportEquipments: Annotated[list[UtilizedTransportEquipment], Field(min_length=1)]
    exportLicense: License | None = None
    importLicense: License | None = None
    references: list[Reference] | None = None
    customsReferences: list[CustomsReference] | None = None
